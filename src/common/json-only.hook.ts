import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from './domain.error.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

/**
 * Write routes take JSON only: a missing or other content type is 415 before any body is read
 * (Nest would otherwise also parse form bodies). Unknown paths are left to the 404.
 */
export function requireJsonOnWrites(fastify: FastifyInstance): void {
  // Callback style, not async: runs on every request, and a promise per request is measurable.
  fastify.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    if (!WRITE_METHODS.has(request.method) || request.is404) return done();
    const type = request.headers['content-type'];
    if (type === undefined || !JSON_TYPE.test(type)) {
      return done(new DomainError(`Content-Type must be application/json (got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 100))})`, 415));
    }
    done();
  });
}
