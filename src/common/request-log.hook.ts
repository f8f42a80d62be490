import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/**
 * Probes and scrapes are polled every few seconds: logged at debug, not info. Also `//health` and the
 * like: the router ignores repeated slashes, so they are the same routes.
 */
const QUIET_PATHS = /^\/+(health(\/+[a-z]*)?|metrics)\/*(\?|$)/i;

/**
 * One line per request, from a Fastify `onResponse` hook: cheaper than a Nest middleware, and it
 * sees every answer (404s, 413s, CORS preflights) including those Nest never routes.
 */
export function registerRequestLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    // 503 is overload or shutdown answered as designed (Retry-After): a warning, not a fault.
    const level = status >= 500 && status !== 503 ? 'error' : status >= 400 ? 'warn' : QUIET_PATHS.test(request.url) ? 'debug' : 'info';
    if (logger.isLevelEnabled(level)) {
      logger[level](
        { reqId: request.id, method: request.method, url: request.url, status, ms: Math.round(reply.elapsedTime * 100) / 100 },
        'request completed',
      );
    }
    done();
  });
}
