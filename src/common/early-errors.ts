import { Logger, NotFoundException } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ALLOWED_METHODS } from '../security/cors.hook.js';
import { DomainError } from './domain.error.js';

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
  if (socket.writable && !inFlight?.headersSent) socket.write(rawAnswer(status, message));
  socket.destroy(error);
}

/**
 * A `CONNECT` request (a proxy tunnel) gets a 405 in the error shape, then the connection closes.
 * Node hands such a request to the server's `connect` listener, and without one it dropped the
 * connection without a word.
 */
export function answerConnect(_request: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy()); // the client may be gone already: not the process's problem
  // Closed for good once the answer is out: Node's HTTP timeouts no longer watch this socket, and a
  // client that never closed its side would hold it open, and a graceful shutdown, forever.
  socket.end(rawAnswer(405, 'CONNECT is not supported: this service is not a proxy', `Allow: ${ALLOWED_METHODS}\r\n`), () => socket.destroy());
}

/** A whole HTTP/1.1 response in the error shape, written straight to a socket Node no longer answers on. */
function rawAnswer(status: number, message: string, headers = ''): string {
  const body = JSON.stringify({ error: message, code: status });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}Content-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function describe(code: string | undefined): [number, string] {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'request timed out: the whole request must arrive within the request timeout'];
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'request headers are too large'];
  return [400, 'malformed HTTP request'];
}

/**
 * Refused in `onRequest`, before any body is read, and answered by the global filter:
 * - an HTTP/1.1 request without `Host`, which HTTP/1.1 requires: 400. Node's own check (turned off
 *   in `createAdapter()`) answered it with an empty body, not the error shape.
 * - a request no route takes (an unknown path, or a known one with the wrong method): its 404 or
 *   405 (the filter tells them apart), rather than a 400 for a malformed body or a 413 for a large
 *   one. Its body is never read: the connection closes after the answer.
 */
export function refuseEarly(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      closeAfterAnswer(request, reply);
      return done(new DomainError('the Host header is missing: every HTTP/1.1 request must carry one', 400));
    }
    if (!request.is404) return done();
    closeAfterAnswer(request, reply);
    done(new NotFoundException());
  });
}

/**
 * For an answer given before the request's body is read: `Connection: close` when there is a body.
 * Node would otherwise read the whole body, however large (only the request timeout bounds it),
 * to keep the connection alive.
 */
export function closeAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
  const length = request.headers['content-length'];
  if ((length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined) reply.header('connection', 'close');
}
