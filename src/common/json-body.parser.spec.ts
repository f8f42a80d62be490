import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidDocumentError } from './domain.error.js';
import { parseJsonBody, type JsonLimits } from './json-body.parser.js';

const FIXTURE = readFileSync(fileURLToPath(new URL('../../test/fixtures/meta_metrics.json', import.meta.url)));
const LIMITS: JsonLimits = { maxDepth: 4, maxKeys: 10, maxStringLength: 16 };
const LARGE: JsonLimits = { maxDepth: 32, maxKeys: 1000, maxStringLength: 1024 * 1024 };

const nested = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** What parseJsonBody refused `body` with (it must refuse it). */
function refusal(body: Buffer, limits: JsonLimits = LIMITS): InvalidDocumentError {
  try {
    parseJsonBody(body, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDocumentError);
    expect((error as InvalidDocumentError).code).toBe(400);
    return error as InvalidDocumentError;
  }
  throw new Error('expected the body to be refused');
}

describe('parseJsonBody', () => {
  it('parses the fixture exactly as JSON.parse does under the default limits', () => {
    // Act
    const result = parseJsonBody(FIXTURE, { maxDepth: 32, maxKeys: 50_000, maxStringLength: 65_536 });

    // Assert
    expect(result).toEqual(JSON.parse(FIXTURE.toString('utf8')));
  });

  it('skips a UTF-8 byte order mark', () => {
    // Act
    const result = parseJsonBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{"x":1}')]), LIMITS);

    // Assert
    expect(result).toEqual({ x: 1 });
  });

  it('keeps multi-byte UTF-8 text intact', () => {
    // Act
    const result = parseJsonBody(utf8('{"note":"dépôt ✓ 📈"}'), LIMITS);

    // Assert
    expect(result).toEqual({ note: 'dépôt ✓ 📈' });
  });

  it.each([
    ['an empty body', Buffer.alloc(0), /empty/],
    ['a lone continuation byte', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]), /UTF-8/],
    ['0xff bytes', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), /UTF-8/],
    ['a truncated multi-byte character', Buffer.concat([utf8('{"a":"'), Buffer.from([0xe2, 0x9c]), utf8('"}')]), /UTF-8/],
    ['an overlong encoding of "/"', Buffer.concat([utf8('{"a":"'), Buffer.from([0xc0, 0xaf]), utf8('"}')]), /UTF-8/],
    ['malformed JSON', utf8('{"per_agent": {'), /not valid JSON/],
    ['trailing garbage', utf8('{"a":1} x'), /not valid JSON/],
    ["Python's NaN token", utf8('{"a": NaN}'), /not valid JSON/],
  ])('refuses %s', (_label, body, message) => {
    // Act
    const error = refusal(body);

    // Assert
    expect(error.message).toMatch(message);
  });

  describe('depth', () => {
    it('accepts objects nested exactly maxDepth levels', () => {
      // Act
      const result = parseJsonBody(utf8(nested(4)), LIMITS);

      // Assert
      expect(result).toEqual({ a: { a: { a: {} } } });
    });

    it.each([
      ['objects', nested(5)],
      ['arrays', '[[[[[]]]]]'],
      ['arrays inside objects', '{"a":[{"b":[[]]}]}'],
    ])('refuses %s nested one level deeper', (_label, text) => {
      // Act
      const error = refusal(utf8(text));

      // Assert
      expect(error.message).toBe('request body refused: nested deeper than 4 levels');
    });

    it('refuses a large, deeply nested body without parsing it first', () => {
      // Arrange: 200 000 levels; parsed, this would be ~0.1 s of CPU and tens of MB
      const body = utf8(`{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);

      // Act
      const error = refusal(body, LARGE);

      // Assert
      expect(error.message).toBe('request body refused: nested deeper than 32 levels');
    });

    it('does not count brackets inside strings, in a large body', () => {
      // Arrange
      const body = utf8(JSON.stringify({ text: '[{'.repeat(40_000), escaped: '\\"[[[[' }));

      // Act
      const result = parseJsonBody(body, LARGE) as { text: string };

      // Assert
      expect(result.text).toHaveLength(80_000);
    });
  });

  describe('keys and items', () => {
    it('accepts exactly maxKeys keys and items', () => {
      // Act
      const result = parseJsonBody(utf8('{"a":[1,2,3],"b":{"c":1,"d":2},"e":[4,5]}'), LIMITS);

      // Assert
      expect(result).toEqual({ a: [1, 2, 3], b: { c: 1, d: 2 }, e: [4, 5] });
    });

    it.each([
      ['keys', JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])))],
      ['array items', JSON.stringify({ a: Array.from({ length: 10 }, (_, i) => i) })],
      ['keys spread over nested objects', JSON.stringify({ a: { b: 1, c: 2, d: 3 }, e: { f: 1, g: 2, h: 3 }, i: { j: 1, k: 2 } })],
    ])('refuses more than maxKeys %s', (_label, text) => {
      // Act
      const error = refusal(utf8(text));

      // Assert
      expect(error.message).toBe('request body refused: more than 10 keys and items');
    });

    it('refuses hundreds of thousands of keys in a large body', () => {
      // Arrange
      const body = utf8(`{${Array.from({ length: 300_000 }, (_, i) => `"k${i}":0`).join(',')}}`);

      // Act
      const error = refusal(body, LARGE);

      // Assert
      expect(error.message).toBe('request body refused: more than 1000 keys and items');
    });
  });

  describe('strings', () => {
    it('accepts a string of exactly maxStringLength characters', () => {
      // Act
      const result = parseJsonBody(utf8(JSON.stringify({ s: 'x'.repeat(16) })), LIMITS);

      // Assert
      expect(result).toEqual({ s: 'x'.repeat(16) });
    });

    it.each([
      ['a value', { s: 'x'.repeat(17) }, /a string is longer than 16/],
      ['a value inside an array', { s: ['ok', 'y'.repeat(17)] }, /a string is longer than 16/],
      ['a key', { ['k'.repeat(17)]: 1 }, /a key is longer than 16/],
    ])('refuses %s longer than maxStringLength', (_label, doc, message) => {
      // Act
      const error = refusal(utf8(JSON.stringify(doc)));

      // Assert
      expect(error.message).toMatch(message);
    });
  });

  describe('numbers', () => {
    it.each([
      ['1e999', '{"a":1e999}'],
      ['-1e999', '{"a":-1e999}'],
      ['an overflowing number inside an array', '{"a":[1,2,1e400]}'],
    ])('refuses %s as out of range', (_label, text) => {
      // Act
      const error = refusal(utf8(text));

      // Assert
      expect(error.message).toBe('request body refused: a number is out of range');
    });

    it('accepts the largest double and an underflow to zero', () => {
      // Act
      const result = parseJsonBody(utf8('{"max":1.7976931348623157e308,"tiny":1e-400}'), LIMITS);

      // Assert
      expect(result).toEqual({ max: Number.MAX_VALUE, tiny: 0 });
    });
  });

  describe('prototype poisoning', () => {
    afterEach(() => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it.each([
      ['"__proto__" at the top', '{"__proto__":{"polluted":1}}', '__proto__'],
      ['"__proto__" nested in an array', '{"a":[{"b":{"__proto__":{"polluted":1}}}]}', '__proto__'],
      ['"constructor.prototype"', '{"constructor":{"prototype":{"polluted":1}}}', 'constructor.prototype'],
      ['"constructor.prototype" nested', '{"a":{"constructor":{"prototype":{}}}}', 'constructor.prototype'],
    ])('refuses %s', (_label, text, key) => {
      // Act
      const error = refusal(utf8(text));

      // Assert
      expect(error.message).toBe(`request body refused: the key "${key}" is not allowed`);
    });

    it('accepts a "constructor" key that carries no prototype', () => {
      // Act
      const result = parseJsonBody(utf8('{"constructor":{"name":"x"},"b":{"constructor":"y"}}'), LIMITS);

      // Assert
      expect(result).toEqual({ constructor: { name: 'x' }, b: { constructor: 'y' } });
    });
  });
});
