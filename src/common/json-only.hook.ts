import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from './domain.error.js';
import { closeAfterAnswer } from './early-errors.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

/**
 * Write routes take uncompressed JSON only: a missing or other content type, or any content coding
 * (`Content-Encoding: gzip`, which would otherwise be ignored and its bytes parsed as JSON), is 415
 * before any body is read (Nest would otherwise also parse form bodies). Unknown paths never get
 * here: `refuseEarly()` has answered them with their 404 or 405.
 */
export function requireJsonOnWrites(fastify: FastifyInstance): void {
  // Callback style, not async: runs on every request, and a promise per request is measurable.
  fastify.addHook('onRequest', (request: FastifyRequest, reply, done) => {
    if (!WRITE_METHODS.has(request.method)) return done();
    const type = request.headers['content-type'];
    if (type === undefined || !JSON_TYPE.test(type)) {
      closeAfterAnswer(request, reply);
      return done(new DomainError(`Content-Type must be application/json (got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 100))})`, 415));
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && !['', 'identity'].includes(encoding.trim().toLowerCase())) {
      closeAfterAnswer(request, reply);
      const message = `Content-Encoding ${JSON.stringify(encoding.slice(0, 100))} is not supported: send the body uncompressed`;
      return done(new DomainError(message, 415, { headers: { 'accept-encoding': 'identity' } }));
    }
    done();
  });
}
