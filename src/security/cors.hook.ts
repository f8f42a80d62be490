import type { FastifyInstance } from 'fastify';

/** Sent on every answer (with the security headers): what a browser may read depends on its Origin. */
export const CORS_VARY = { vary: 'Origin' };

/** Every method the service answers on some route. */
export const ALLOWED_METHODS = 'GET, HEAD, POST, OPTIONS';
const PREFLIGHT_MAX_AGE_SECONDS = '600';
/**
 * What a browser script may read beyond the CORS-safelisted headers: the ETag to poll with
 * If-None-Match, Retry-After on a 503 or 429, the request id to quote, and WWW-Authenticate on a 401.
 */
export const EXPOSED_HEADERS = 'ETag, Retry-After, X-Request-Id, WWW-Authenticate';

/**
 * CORS (README, "Security"): a browser at an allowed origin (`CORS_ORIGINS`; `*` allows any, by
 * echoing it back) gets `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers`; any `OPTIONS` request is a preflight, answered
 * 204 here, before the access-control hook (a preflight never carries a token). Requests without an
 * `Origin` header, which is every agent, probe and scraper, pass straight through. Nest's
 * `enableCors()` (@fastify/cors) did its work on every request and cost about a quarter of a GET's
 * CPU time (README, "Benchmarks").
 */
export function registerCors(fastify: FastifyInstance, origins: true | readonly string[]): void {
  const listed = origins === true ? undefined : new Set(origins); // undefined: every origin
  const allowed = (origin: string) => listed === undefined || listed.has(origin);
  fastify.addHook('onRequest', (request, reply, done) => {
    const { origin } = request.headers;
    const preflight = request.method === 'OPTIONS';
    if (origin === undefined && !preflight) return done();
    if (origin !== undefined && allowed(origin)) {
      reply.header('access-control-allow-origin', origin);
      if (!preflight) reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    }
    if (!preflight) return done();
    const requestedHeaders = request.headers['access-control-request-headers'];
    if (requestedHeaders !== undefined) reply.header('access-control-allow-headers', requestedHeaders);
    void reply
      .header('vary', 'Origin, Access-Control-Request-Headers')
      .header('access-control-allow-methods', ALLOWED_METHODS)
      .header('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS)
      .header('content-length', '0')
      .code(204)
      .send();
  });
}
