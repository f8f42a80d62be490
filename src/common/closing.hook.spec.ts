import Fastify from 'fastify';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { answerWhileClosing } from './closing.hook.js';

describe('answerWhileClosing', () => {
  it('answers a request that arrives while the server closes with a 503 in the error shape', async () => {
    // Arrange: a slow request in flight, and a second one pipelined behind it on the same connection
    const sut = Fastify({ return503OnClosing: false });
    answerWhileClosing(sut);
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

    // Act
    const closed = sut.close();
    socket.write('GET /fast HTTP/1.1\r\nHost: t\r\n\r\n');
    await Promise.race([ended, sleep(5000)]);
    await closed;

    // Assert
    const responses = received.split(/(?=HTTP\/1\.1 )/);
    expect(responses).toHaveLength(2);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(responses[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(responses[1]).toMatch(/retry-after: 5/i);
    expect(JSON.parse(responses[1].slice(responses[1].indexOf('\r\n\r\n') + 4))).toEqual({ error: expect.stringContaining('shutting down'), code: 503 });
  });
});
