import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestApp, fixtureWith } from './support/app.js';
import { tempRoot } from './support/server.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * With no security setting at all (a fresh clone, the unmodified local agents): nobody needs a
 * token, any origin may read, writes are not rate limited — and every answer still carries the
 * security headers.
 */
describe('access control, defaults', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp({ NEOLIGHT_ROOT: tempRoot('neolight-open-') });
  });
  afterAll(async () => {
    await app.close();
  });

  it('takes writes and serves reads without any token, as the agents send them', async () => {
    // Act
    const meta = await app.inject({ method: 'POST', url: '/meta/metrics', headers: JSON_TYPE, payload: JSON.stringify(fixtureWith(1)) });
    const atlas = await app.inject({ method: 'POST', url: '/atlas/update', headers: JSON_TYPE, payload: '{"type":"trade"}' });
    const read = await app.inject({ method: 'GET', url: '/meta/metrics' });

    // Assert
    expect(meta.statusCode).toBe(200);
    expect(atlas.statusCode).toBe(200);
    expect(read.statusCode).toBe(200);
    expect(read.json().seq).toBe(1);
  });

  it('ignores an Authorization header nobody asked for', async () => {
    // Act
    const res = await app.inject({ method: 'POST', url: '/atlas/update', headers: { ...JSON_TYPE, authorization: 'Bearer anything' }, payload: '{}' });

    // Assert
    expect(res.statusCode).toBe(200);
  });

  it('does not rate-limit writes: 200 fast writes from one client all succeed, with no rate-limit headers', async () => {
    // Act
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        app.inject({ method: 'POST', url: '/atlas/update', headers: JSON_TYPE, payload: JSON.stringify({ type: `burst${i % 8}`, i }) }),
      ),
    );

    // Assert
    expect(results.filter((r) => r.statusCode !== 200)).toEqual([]);
    expect(results[0].headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('allows any origin, like the old server (by echoing it back)', async () => {
    // Act
    const res = await app.inject({ method: 'GET', url: '/meta/metrics', headers: { origin: 'http://dashboard.local' } });

    // Assert
    expect(res.headers['access-control-allow-origin']).toBe('http://dashboard.local');
    expect(res.headers.vary).toContain('Origin');
    // Without this a page at another origin could not read the ETag it needs for If-None-Match.
    expect(res.headers['access-control-expose-headers']).toBe('ETag, Retry-After, X-Request-Id, WWW-Authenticate');
  });

  it('gives a request without Origin (every agent and probe) no CORS grant, but Vary: Origin for caches', async () => {
    // Act
    const res = await app.inject({ method: 'GET', url: '/meta/metrics' });

    // Assert
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
  });

  it('answers a preflight on any path with the methods, the requested headers, a max age, and the security headers', async () => {
    // Act
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/atlas/update',
      headers: { origin: 'http://dashboard.local', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-request-id' },
    });
    const unknownPath = await app.inject({ method: 'OPTIONS', url: '/no/such/path', headers: { origin: 'http://dashboard.local' } });

    // Assert
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://dashboard.local');
    expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, OPTIONS');
    expect(res.headers['access-control-allow-headers']).toBe('content-type, x-request-id');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers.vary).toBe('Origin, Access-Control-Request-Headers');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(unknownPath.statusCode).toBe(204);
    expect(unknownPath.headers['access-control-allow-origin']).toBe('http://dashboard.local');
  });

  it('answers an OPTIONS without the preflight headers like a preflight (204), not with a text/plain 400', async () => {
    // Act
    const res = await app.inject({ method: 'OPTIONS', url: '/' });

    // Assert
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
  });

  it.each([
    ['a 200', 'GET', '/meta/metrics', {}, undefined, 200],
    ['a 404', 'GET', '/nope', {}, undefined, 404],
    ['a 405', 'DELETE', '/meta/metrics', {}, undefined, 405],
    ['a 415', 'POST', '/meta/metrics', { 'content-type': 'text/plain' }, 'x', 415],
    ['a 400', 'POST', '/meta/metrics', JSON_TYPE, '{', 400],
    ['a 413', 'POST', '/meta/metrics', JSON_TYPE, 'x'.repeat(4 * 1024 * 1024 + 1), 413],
  ] as const)('puts the security headers on %s', async (_label, method, url, headers, payload, status) => {
    // Act
    const res = await app.inject({ method, url, headers, payload });

    // Assert
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it.each(['/docs', '//docs', '/DOCS', '/docs/'])('lets the Swagger UI page at %s load its own scripts and styles', async (url) => {
    // Act
    const res = await app.inject({ method: 'GET', url });

    // Assert: the page's CSP, not the API's `default-src 'none'`, however the path is written.
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("style-src 'self'");
  });
});
