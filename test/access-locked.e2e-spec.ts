import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, fixtureWith } from './support/app.js';
import { tempRoot } from './support/server.js';

const HIVE = 'hive-telemetry-0123456789abcdef';
const ATLAS = 'atlas-bridge-fedcba9876543210';
const GOVERNOR = 'governor-read-only-00112233445566';
const OPS_ORIGIN = 'https://ops.example.com';
const RATE_LIMIT = 3;

const READ_ROUTES = ['/meta/metrics', '/meta/performance', '/meta/regime', '/governor/allocations', '/atlas/state', '/status'];
const OPEN_ROUTES = ['/', '/health', '/health/live', '/health/ready', '/health/startup', '/HEALTH/Live/', '/health?verbose=1'];

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * Everything locked down at once, each by its own setting: write tokens (one per agent), a read
 * token, a write rate limit, and one allowed CORS origin. Probes and `/` stay open.
 */
describe('access control, locked down', () => {
  let app: NestFastifyApplication;
  let root: string;
  let seq = 0;

  beforeAll(async () => {
    root = tempRoot('neolight-locked-');
    app = await createTestApp({
      NEOLIGHT_ROOT: root,
      WRITE_TOKENS: `${HIVE}, ${ATLAS}`,
      READ_TOKENS: GOVERNOR,
      WRITE_RATE_LIMIT: String(RATE_LIMIT),
      WRITE_RATE_WINDOW_MS: '60000',
      CORS_ORIGINS: OPS_ORIGIN,
    });
  });
  afterAll(async () => {
    await app.close();
  });

  /** A write from `token` (and optionally another client address); each one a new document. */
  const write = (headers: Record<string, string>, url = '/meta/metrics', remoteAddress = '10.0.0.1') =>
    app.inject({
      method: 'POST',
      url,
      remoteAddress,
      headers: { ...JSON_TYPE, ...headers },
      payload: JSON.stringify(url === '/meta/metrics' ? fixtureWith(++seq) : { type: 'telemetry', seq: ++seq }),
    });
  const storedMeta = () => readFileSync(join(root, 'state', 'meta_metrics.json'), 'utf8');

  describe('writes', () => {
    it('takes a write from each agent with its own token', async () => {
      // Act
      const fromHive = await write(bearer(HIVE));
      const fromAtlas = await write(bearer(ATLAS), '/atlas/update');

      // Assert
      expect(fromHive.statusCode).toBe(200);
      expect(fromAtlas.statusCode).toBe(200);
      expect(JSON.parse(storedMeta()).seq).toBe(seq - 1);
    });

    it.each([
      ['no Authorization header', {}, 'Bearer'],
      ['a wrong token', bearer('not-a-token-we-issued-000'), 'Bearer error="invalid_token"'],
      ['a near miss of a real token', bearer(`${HIVE.slice(0, -1)}0`), 'Bearer error="invalid_token"'],
      ['the read-only token', bearer(GOVERNOR), 'Bearer error="invalid_token"'],
      ['a real token under another scheme', { authorization: `Basic ${HIVE}` }, 'Bearer'],
      ['a real token without a scheme', { authorization: HIVE }, 'Bearer'],
    ])('refuses a write with %s: 401, the challenge, nothing stored', async (_label, headers, challenge) => {
      // Arrange
      const before = storedMeta();

      // Act
      const res = await write(headers);

      // Assert
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: expect.any(String), code: 401 });
      expect(res.headers['www-authenticate']).toBe(challenge);
      expect(storedMeta()).toBe(before);
    });

    it('refuses an unauthenticated write before reading its body: 401, not 413 or 415', async () => {
      // Act
      const huge = await app.inject({ method: 'POST', url: '/atlas/update', headers: JSON_TYPE, payload: 'x'.repeat(5 * 1024 * 1024) });
      const untyped = await app.inject({ method: 'POST', url: '/atlas/update', payload: 'a=1' });

      // Assert
      expect(huge.statusCode).toBe(401);
      expect(untyped.statusCode).toBe(401);
      // ...and closes the connection rather than read that body to keep it alive
      expect([huge.headers.connection, untyped.headers.connection]).toEqual(['close', 'close']);
    });

    it('never echoes a token in an answer', async () => {
      // Act
      const res = await write(bearer(`${HIVE}x`));

      // Assert
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain(HIVE);
      expect(JSON.stringify(res.headers)).not.toContain(HIVE);
    });
  });

  describe('reads', () => {
    it.each(READ_ROUTES)('GET %s needs a token: none is 401, a read or a write token is 200', async (url) => {
      // Act
      const none = await app.inject({ method: 'GET', url });
      const wrong = await app.inject({ method: 'GET', url, headers: bearer('wrong-token-0000000000') });
      const reader = await app.inject({ method: 'GET', url, headers: bearer(GOVERNOR) });
      const writer = await app.inject({ method: 'GET', url, headers: bearer(ATLAS) });
      const head = await app.inject({ method: 'HEAD', url });

      // Assert
      expect(none.statusCode).toBe(401);
      expect(none.json()).toEqual({ error: expect.any(String), code: 401 });
      expect(none.headers['www-authenticate']).toBe('Bearer');
      expect(wrong.statusCode).toBe(401);
      expect(reader.statusCode).toBe(200);
      expect(writer.statusCode).toBe(200);
      expect(head.statusCode).toBe(401);
    });

    it.each(OPEN_ROUTES)('GET %s stays open without a token (probes carry none)', async (url) => {
      // Act
      const res = await app.inject({ method: 'GET', url });

      // Assert
      expect(res.statusCode).toBe(200);
    });

    it('still answers an unknown path with 404 and a wrong method with 405', async () => {
      // Act
      const missing = await app.inject({ method: 'GET', url: '/nope' });
      const wrongMethod = await app.inject({ method: 'DELETE', url: '/meta/metrics' });

      // Assert
      expect(missing.statusCode).toBe(404);
      expect(wrongMethod.statusCode).toBe(405);
    });
  });

  describe('CORS', () => {
    it('answers a preflight from the allowed origin (no token needed) and names it', async () => {
      // Act
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/meta/metrics',
        headers: { origin: OPS_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });

      // Assert
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(OPS_ORIGIN);
      expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    });

    it('gives a disallowed origin no access-control-allow-origin, on a preflight or a read', async () => {
      // Act
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/meta/metrics',
        headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
      });
      const read = await app.inject({ method: 'GET', url: '/meta/metrics', headers: { origin: 'https://evil.example.net', ...bearer(GOVERNOR) } });

      // Assert
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(read.statusCode).toBe(200);
      expect(read.headers['access-control-allow-origin']).toBeUndefined();
      expect(read.headers['access-control-expose-headers']).toBeUndefined();
    });
  });

  describe('rate limit, per token', () => {
    it('limits one agent (429 + Retry-After) while another with its own token is not, and reads are never limited', async () => {
      // Arrange: a fresh route budget for both tokens (atlas; the meta budget was used above)
      const hive = [];
      for (let i = 0; i < RATE_LIMIT; i++) hive.push(await write(bearer(HIVE), '/atlas/update'));

      // Act
      const limited = await write(bearer(HIVE), '/atlas/update');
      const fromElsewhere = await write(bearer(HIVE), '/atlas/update', '10.9.9.9');
      const other = await write(bearer(ATLAS), '/atlas/update');
      const reads = await Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'GET', url: '/atlas/state', headers: bearer(HIVE) })));

      // Assert
      expect(hive.map((r) => r.statusCode)).toEqual(new Array(RATE_LIMIT).fill(200));
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toEqual({ error: expect.stringContaining('rate limit'), code: 429 });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(fromElsewhere.statusCode).toBe(429);
      expect(other.statusCode).toBe(200);
      expect(reads.map((r) => r.statusCode)).toEqual(new Array(10).fill(200));
    });
  });
});
