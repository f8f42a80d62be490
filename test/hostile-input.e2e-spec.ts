import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createTestApp, fixtureWith } from './support/app.js';
import { tempRoot } from './support/server.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const nestedObjects = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
const manyKeys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;

interface HostileInput {
  name: string;
  payload: string | Buffer;
  headers: Record<string, string>;
  status: number;
}

/**
 * Each bad input the issue names, with the defaults an unconfigured install runs with
 * (4 MiB bodies, 32 levels, 50 000 keys and items, 64 Ki-character strings).
 */
const HOSTILE: HostileInput[] = [
  { name: 'malformed JSON', payload: '{"per_agent": {', headers: JSON_TYPE, status: 400 },
  { name: 'markup sent as JSON', payload: '<per_agent/>', headers: JSON_TYPE, status: 400 },
  { name: 'an empty body', payload: '', headers: JSON_TYPE, status: 400 },
  { name: 'a bare array', payload: '[{"per_agent":{}}]', headers: JSON_TYPE, status: 400 },
  { name: 'a bare string', payload: '"per_agent"', headers: JSON_TYPE, status: 400 },
  { name: 'a bare number', payload: '42', headers: JSON_TYPE, status: 400 },
  { name: 'a bare null', payload: 'null', headers: JSON_TYPE, status: 400 },
  { name: 'a bare true', payload: 'true', headers: JSON_TYPE, status: 400 },
  { name: 'text/plain', payload: '{"x":1}', headers: { 'content-type': 'text/plain' }, status: 415 },
  { name: 'a form body', payload: 'per_agent=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
  { name: 'multipart', payload: '--b\r\n\r\n{}\r\n--b--', headers: { 'content-type': 'multipart/form-data; boundary=b' }, status: 415 },
  { name: 'no content type', payload: '{"x":1}', headers: {}, status: 415 },
  { name: 'a look-alike content type', payload: '{"x":1}', headers: { 'content-type': 'application/jsonp' }, status: 415 },
  { name: 'a gzip-compressed body', payload: gzipSync('{"x":1}'), headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, status: 415 },
  { name: 'a plain body labelled gzip', payload: '{"x":1}', headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, status: 415 },
  { name: 'a body over the 4 MiB limit', payload: JSON.stringify({ pad: 'x'.repeat(4 * 1024 * 1024) }), headers: JSON_TYPE, status: 413 },
  { name: 'objects nested 33 levels', payload: nestedObjects(33), headers: JSON_TYPE, status: 400 },
  { name: 'arrays nested 100 000 levels', payload: `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, headers: JSON_TYPE, status: 400 },
  { name: '300 000 keys', payload: manyKeys(300_000), headers: JSON_TYPE, status: 400 },
  { name: 'an array of a million items', payload: `{"x":[${new Array(1_000_000).fill(0).join(',')}]}`, headers: JSON_TYPE, status: 400 },
  { name: 'a 1 MiB string', payload: JSON.stringify({ note: 'x'.repeat(1024 * 1024) }), headers: JSON_TYPE, status: 400 },
  { name: 'a 100 000-character key', payload: JSON.stringify({ ['k'.repeat(100_000)]: 1 }), headers: JSON_TYPE, status: 400 },
  { name: 'a "__proto__" key', payload: '{"__proto__":{"polluted":true}}', headers: JSON_TYPE, status: 400 },
  { name: 'a nested "__proto__" key', payload: '{"guardian":{"is_paused":false,"__proto__":{"polluted":true}}}', headers: JSON_TYPE, status: 400 },
  { name: 'a "constructor.prototype" key', payload: '{"constructor":{"prototype":{"polluted":true}}}', headers: JSON_TYPE, status: 400 },
  { name: 'invalid UTF-8', payload: Buffer.concat([Buffer.from('{"note":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}')]), headers: JSON_TYPE, status: 400 },
  { name: 'Latin-1 bytes labelled as such', payload: Buffer.from('{"note":"d\xe9p\xf4t"}', 'latin1'), headers: { 'content-type': 'application/json; charset=iso-8859-1' }, status: 400 },
  { name: 'a number out of range (1e999)', payload: '{"extra":{"value":1e999}}', headers: JSON_TYPE, status: 400 },
  { name: 'a negative number out of range', payload: '{"extra":[1,-1e999]}', headers: JSON_TYPE, status: 400 },
  { name: 'an agent number out of range', payload: '{"per_agent":{"A":{"pnl_7d":1e999}}}', headers: JSON_TYPE, status: 400 },
];

/** A stream of valid documents, each different, so that "the valid request after" is visible. */
let seq = 1000;
const VALID: Record<string, () => unknown> = {
  '/meta/metrics': () => fixtureWith(++seq),
  '/atlas/update': () => ({ type: 'telemetry', seq: ++seq }),
};

describe('hostile input on the write routes (inject, default limits)', () => {
  let app: NestFastifyApplication;
  let root: string;

  beforeAll(async () => {
    root = tempRoot('neolight-hostile-');
    app = await createTestApp({ NEOLIGHT_ROOT: root });
    for (const [url, valid] of Object.entries(VALID)) {
      expect((await app.inject({ method: 'POST', url, headers: JSON_TYPE, payload: JSON.stringify(valid()) })).statusCode).toBe(200);
    }
  });
  afterAll(async () => {
    await app.close();
  });
  afterEach(() => {
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  /** Everything a reader or a restart would see: both documents as served and as stored. */
  async function stored(): Promise<Record<string, unknown>> {
    const meta = (await app.inject({ method: 'GET', url: '/meta/metrics' })).json();
    delete meta.age_seconds;
    return {
      meta,
      atlas: (await app.inject({ method: 'GET', url: '/atlas/state' })).json(),
      metaFile: readFileSync(join(root, 'state', 'meta_metrics.json'), 'utf8'),
      atlasFile: readFileSync(join(root, 'state', 'atlas_state.json'), 'utf8'),
    };
  }

  describe.each(Object.keys(VALID))('POST %s', (url) => {
    it.each(HOSTILE.map((input) => [input.name, input] as const))('with %s: the error shape, nothing changed, the next request served', async (_name, input) => {
      // Arrange
      const before = await stored();

      // Act
      const res = await app.inject({ method: 'POST', url, headers: input.headers, payload: input.payload });

      // Assert
      expect(res.statusCode).toBe(input.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json();
      expect(body).toMatchObject({ error: expect.any(String), code: input.status });
      expect(Object.keys(body).filter((k) => k !== 'details')).toEqual(['error', 'code']);
      expect(body.error.length).toBeLessThan(600);
      expect(await stored()).toEqual(before);
      const next = await app.inject({ method: 'POST', url, headers: JSON_TYPE, payload: JSON.stringify(VALID[url]()) });
      expect(next.statusCode).toBe(200);
      expect(await stored()).not.toEqual(before);
    });
  });

  it('takes a document nested exactly 32 levels, the default limit', async () => {
    // Act
    const res = await app.inject({ method: 'POST', url: '/atlas/update', headers: JSON_TYPE, payload: `{"type":"deep","x":${nestedObjects(31)}}` });

    // Assert
    expect(res.statusCode).toBe(200);
    const state = (await app.inject({ method: 'GET', url: '/atlas/state' })).json();
    expect(JSON.stringify(state.latest.deep.payload.x)).toBe(nestedObjects(31));
  });

  it.each([
    ['malformed percent-encoding', '/meta/%E0%A4%A'],
    ['a bare percent sign', '/%'],
    ['an encoded path traversal', '/meta/..%2f..%2f..%2fetc%2fpasswd'],
    ['a dot-dot path', '/governor/../../etc/passwd'],
    ['an encoded NUL byte', '/health%00'],
    ['a 6 000-character path', `/${'a'.repeat(6000)}`],
    ['a query string bomb', `/meta/metrics?${Array.from({ length: 5000 }, (_, i) => `a${i}=1`).join('&')}`],
  ])('answers a read with %s with a 2xx or a 4xx in the error shape', async (_name, url) => {
    // Act
    const res = await app.inject({ method: 'GET', url });

    // Assert
    expect(res.statusCode).toBeLessThan(500);
    if (res.statusCode >= 400) {
      expect(res.json()).toEqual({ error: expect.any(String), code: res.statusCode });
      expect(res.body.length).toBeLessThan(400);
    }
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
