import { inspect } from 'node:util';
import { bearerToken, TokenSet } from './token-set.js';

const WRITER_A = 'wA7f3c9e1b2d4a6f8e0c1b3d5f7a9e2c4';
const WRITER_B = 'wB0123456789abcdef0123456789abcdef';

describe('TokenSet, one token: the constant-time comparison', () => {
  const sut = new TokenSet([WRITER_A]);

  it.each([
    ['the token itself', WRITER_A, true],
    ['a different last character', `${WRITER_A.slice(0, -1)}5`, false],
    ['a different first character', `x${WRITER_A.slice(1)}`, false],
    ['a prefix of the token', WRITER_A.slice(0, 8), false],
    ['the token with a suffix', `${WRITER_A}x`, false],
    ['an empty string', '', false],
    ['the token in another case', WRITER_A.toUpperCase(), false],
  ])('%s → %s', (_label, presented, expected) => {
    // Act
    const result = sut.has(presented);

    // Assert
    expect(result).toBe(expected);
  });

  it('compares multi-byte text byte for byte', () => {
    // Arrange
    const unicode = new TokenSet(['clé-secrète-ünïcode-✓']);

    // Act
    const results = [unicode.has('clé-secrète-ünïcode-✓'), unicode.has('cle-secrete-unicode-✓')];

    // Assert
    expect(results).toEqual([true, false]);
  });

  it('never throws on a guess of another length (timingSafeEqual on raw strings would, revealing the length)', () => {
    // Act
    const act = () => sut.has('x'.repeat(10_000));

    // Assert
    expect(act).not.toThrow();
    expect(act()).toBe(false);
  });
});

describe('TokenSet', () => {
  const sut = new TokenSet([WRITER_A, WRITER_B]);

  it('knows each of its tokens, by position', () => {
    // Act
    const positions = [sut.indexOf(WRITER_A), sut.indexOf(WRITER_B)];

    // Assert
    expect(positions).toEqual([0, 1]);
    expect(sut.has(WRITER_B)).toBe(true);
    expect(sut.size).toBe(2);
  });

  it.each([
    ['a near miss', `${WRITER_A.slice(0, -1)}0`],
    ['a prefix', WRITER_A.slice(0, 16)],
    ['both tokens joined', `${WRITER_A},${WRITER_B}`],
    ['the empty string', ''],
  ])('refuses %s', (_label, presented) => {
    // Act
    const result = sut.has(presented);

    // Assert
    expect(result).toBe(false);
    expect(sut.indexOf(presented)).toBe(-1);
  });

  it('matches nothing when empty', () => {
    // Arrange
    const empty = new TokenSet([]);

    // Act
    const result = empty.has('');

    // Assert
    expect(result).toBe(false);
    expect(empty.size).toBe(0);
  });

  it('keeps no token in readable form', () => {
    // Act
    const dumped = `${JSON.stringify(sut)} ${inspect(sut, { depth: 5, showHidden: true })}`;

    // Assert
    expect(dumped).not.toContain(WRITER_A);
    expect(dumped).not.toContain(WRITER_B);
    expect(dumped).not.toContain(Buffer.from(WRITER_A).toString('hex'));
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.DEF-123_~+/=', 'abc.DEF-123_~+/='],
    ['bearer lower-case-scheme', 'lower-case-scheme'],
    ['Bearer   extra-spaces  ', 'extra-spaces'],
  ])('reads %j', (header, expected) => {
    // Act
    const result = bearerToken(header);

    // Assert
    expect(result).toBe(expected);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['two tokens', 'Bearer one two'],
    ['a bare token', WRITER_A],
    ['a token with a control character', 'Bearer abc\u0000def'],
  ])('finds no token in %s', (_label, header) => {
    // Act
    const result = bearerToken(header);

    // Assert
    expect(result).toBeUndefined();
  });
});
