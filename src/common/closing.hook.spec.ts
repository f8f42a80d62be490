import Fastify, { type FastifyInstance } from 'fastify';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAdapter } from '../app.factory.js';
import { loadConfig } from '../config/app.config.js';
import { answerWhileClosing } from './closing.hook.js';

/** Sends GET /slow, and once it is in flight, closes `sut` and pipelines `second` behind it; returns both raw answers. */
async function closeBehindSlowRequest(sut: FastifyInstance, second: string): Promise<string[]> {
  let slowStarted!: () => void;
  const inSlow = new Promise<void>((resolve) => (slowStarted = resolve));
  sut.get('/slow', async () => {
    slowStarted();
    await sleep(300);
    return { done: true };
  });
  sut.get('/fast', async () => ({ fast: true }));
  await sut.listen({ port: 0, host: '127.0.0.1' });
  const { port } = sut.server.address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  const ended = new Promise((resolve) => socket.on('close', resolve));
  socket.write('GET /slow HTTP/1.1\r\nHost: t\r\n\r\n');
  await inSlow; // not a fixed delay: on a busy machine the close could otherwise come first
  const closed = sut.close();
  socket.write(second);
  await Promise.race([ended, sleep(5000)]);
  await closed;
  return received.split(/(?=HTTP\/1\.1 )/);
}

describe('answerWhileClosing', () => {
  it('answers a request that arrives while the server closes with a 503 in the error shape', async () => {
    // Arrange
    const sut = Fastify({ return503OnClosing: false });
    answerWhileClosing(sut);

    // Act: a slow request in flight, and a second one pipelined behind it on the same connection
    const responses = await closeBehindSlowRequest(sut, 'GET /fast HTTP/1.1\r\nHost: t\r\n\r\n');

    // Assert
    expect(responses).toHaveLength(2);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(responses[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(responses[1]).toMatch(/retry-after: 5/i);
    expect(JSON.parse(responses[1].slice(responses[1].indexOf('\r\n\r\n') + 4))).toEqual({ error: expect.stringContaining('shutting down'), code: 503 });
  });

  it("in the app's server, carries the headers every answer carries: security headers, request id, CORS grant", async () => {
    // Arrange: the app's own Fastify server, with its hooks in their order
    const sut = createAdapter(loadConfig({})).getInstance();

    // Act
    const [, refused] = await closeBehindSlowRequest(sut, 'GET /fast HTTP/1.1\r\nHost: t\r\nOrigin: http://dashboard.local\r\nX-Request-Id: late-1\r\n\r\n');

    // Assert
    expect(refused).toMatch(/^HTTP\/1\.1 503/);
    expect(refused).toMatch(/^connection: close\r$/im);
    expect(refused).toMatch(/^x-content-type-options: nosniff\r$/im);
    expect(refused).toMatch(/^content-security-policy: default-src 'none'/im);
    expect(refused).toMatch(/^x-request-id: late-1\r$/im);
    // A browser page at an allowed origin can read the 503 and its Retry-After, not a CORS failure.
    expect(refused).toMatch(/^access-control-allow-origin: http:\/\/dashboard\.local\r$/im);
    expect(refused).toMatch(/^access-control-expose-headers: .*Retry-After/im);
  });
});
