import type { FastifyInstance } from 'fastify';

/**
 * Requests that still arrive once the server is closing (on a kept-alive connection, or pipelined
 * behind one in flight) get a 503 in the error shape, with `Retry-After` and `Connection: close`.
 * Fastify's own `return503OnClosing` answer has another shape (`statusCode`, no `code`), so it is
 * turned off and this hook answers instead. In the app it runs after the CORS hook, so a CORS
 * preflight (no side effects) still gets its 204 while the server closes; Node closes that
 * connection after it.
 */
export function answerWhileClosing(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    void reply.code(503).header('retry-after', '5').header('connection', 'close').send({ error: 'shutting down: not accepting requests', code: 503 });
  });
}
