import { Logger, NotFoundException } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

// Errors raised before a request reaches the app (so before the global filter can shape them),
// answered in the same `{"error", "code"}` shape.
const logger = new Logger('HttpServer');

/**
 * Fastify's `frameworkErrors`: what the router refuses before any hook runs — a URL that does not
 * decode (`/%`), an over-long route parameter. Fastify's own answer has another shape.
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 400;
  const message = error.code === 'FST_ERR_BAD_URL' ? 'malformed URL: it does not percent-decode' : (STATUS_CODES[status] ?? 'Error');
  void reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify({ error: message, code: status }));
}

/**
 * Fastify's `clientErrorHandler`: what Node reports before (or instead of) a request the app can
 * answer — a client too slow to send its whole request (`REQUEST_TIMEOUT_MS`), malformed HTTP,
 * headers too large. Answered in the service's error shape, then the connection is closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = describe(error.code);
  logger.warn({ code: error.code, status, remoteAddress: socket.remoteAddress }, `client error: ${message}`);
  // Node's own rule: never write into a response that has already started on this connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ error: message, code: status });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function describe(code: string | undefined): [number, string] {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'request timed out: the whole request must arrive within the request timeout'];
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'request headers are too large'];
  return [400, 'malformed HTTP request'];
}

/**
 * A request no route takes (an unknown path, or a known one with the wrong method) is refused in
 * `onRequest`, before its body is read: it gets its 404 or 405 (from the global filter, which also
 * tells the two apart) rather than a 400 for a malformed body or a 413 for a large one, and the
 * service reads no body it would throw away.
 */
export function refuseUnroutedEarly(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => done(request.is404 ? new NotFoundException() : undefined));
}
