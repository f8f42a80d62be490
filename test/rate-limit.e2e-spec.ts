import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestApp } from './support/app.js';
import { tempRoot } from './support/server.js';

const LIMIT = 2;

/**
 * WRITE_RATE_LIMIT without tokens: each client address has its own budget per write route; one
 * client over it gets 429 + Retry-After, another address is unaffected, reads are never limited.
 */
describe('write rate limit per client address', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp({ NEOLIGHT_ROOT: tempRoot('neolight-rate-'), WRITE_RATE_LIMIT: String(LIMIT), WRITE_RATE_WINDOW_MS: '30000' });
  });
  afterAll(async () => {
    await app.close();
  });

  const write = (remoteAddress: string, url = '/atlas/update') =>
    app.inject({ method: 'POST', url, remoteAddress, headers: { 'content-type': 'application/json' }, payload: '{"type":"telemetry"}' });

  it('limits one address (429 + Retry-After) while another is served', async () => {
    // Arrange
    const first = [await write('192.0.2.10'), await write('192.0.2.10')];

    // Act
    const limited = await write('192.0.2.10');
    const other = await write('192.0.2.20');
    const read = await app.inject({ method: 'GET', url: '/atlas/state', remoteAddress: '192.0.2.10' });

    // Assert
    expect(first.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(first[1].headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: expect.stringContaining('rate limit'), code: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(30);
    expect(other.statusCode).toBe(200);
    expect(read.statusCode).toBe(200);
  });

  it('gives each write route its own budget, so atlas chatter cannot starve the meta-metrics post', async () => {
    // Arrange
    await write('192.0.2.30');
    await write('192.0.2.30');
    expect((await write('192.0.2.30')).statusCode).toBe(429);

    // Act
    const meta = await write('192.0.2.30', '/meta/metrics');

    // Assert
    expect(meta.statusCode).toBe(200);
  });

  it('does not let an unknown bearer token buy a fresh budget', async () => {
    // Arrange
    await write('192.0.2.40');
    await write('192.0.2.40');

    // Act
    const withToken = await app.inject({
      method: 'POST',
      url: '/atlas/update',
      remoteAddress: '192.0.2.40',
      headers: { 'content-type': 'application/json', authorization: 'Bearer made-up-token-0000000000' },
      payload: '{}',
    });

    // Assert
    expect(withToken.statusCode).toBe(429);
  });
});
