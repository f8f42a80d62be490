import type { FastifyInstance } from 'fastify';
import type { NeolightMetrics } from './neolight.metrics.js';

/**
 * HTTP request count and latency, observed in Fastify's `onResponse` hook (a Nest interceptor
 * would wrap every handler and cost far more). The route label is the route template, or
 * `unmatched` for 404s, so its values are bounded.
 */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: NeolightMetrics): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}
