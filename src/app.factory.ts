import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { setupOpenApi } from './app.openapi.js';
import { answerWhileClosing } from './common/closing.hook.js';
import { answerClientError, answerConnect, answerFrameworkError, refuseEarly } from './common/early-errors.js';
import { parseJsonBody } from './common/json-body.parser.js';
import { requireJsonOnWrites } from './common/json-only.hook.js';
import { RouteTable } from './common/route-table.js';
import { requestIdOf } from './common/request-id.js';
import { registerRequestLog } from './common/request-log.hook.js';
import { AppConfig, loadConfig } from './config/app.config.js';
import { registerHttpMetrics } from './metrics/http-metrics.hook.js';
import { NeolightMetrics } from './metrics/neolight.metrics.js';
import { CORS_VARY, registerCors } from './security/cors.hook.js';
import { registerAccessControl } from './security/access-control.hook.js';
import { API_SECURITY_HEADERS, DOCS_SECURITY_HEADERS, securityHeaders } from './security/security-headers.js';

/**
 * The Swagger UI page (not /docs-json): the one route that serves a page rather than JSON. Also
 * `//docs`: the router ignores repeated slashes, so the page is served there too.
 */
const DOCS_PAGE = /^\/+docs(\/|\?|$)/i;


/**
 * Builds the app exactly as it runs, for `main.ts` and the e2e tests alike. `env` defaults to the
 * process environment; a bad value throws a `ConfigError` naming the variable.
 */
export async function createApp(env?: Record<string, string | undefined>): Promise<NestFastifyApplication> {
  const config = loadConfig(env);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), createAdapter(config), { bufferLogs: true });
  return configureApp(app, config);
}

/** The Fastify server: routing like the old server, limits, and the hooks that run before Nest. */
export function createAdapter(config: AppConfig): FastifyAdapter {
  const adapter = new FastifyAdapter({
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    // Node enforces requestTimeout only while headersTimeout (60 s unless set) is not larger, and
    // only when it checks (every 30 s unless set): without these, a stalled client was never cut off.
    http: {
      requireHostHeader: false, // refuseEarly() answers a missing Host in the error shape instead
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(config.requestTimeoutMs / 10))),
    },
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    return503OnClosing: false, // answerWhileClosing() answers in the error shape instead
    forceCloseConnections: 'idle',
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    genReqId: requestIdOf,
  });
  const fastify = adapter.getInstance();
  fastify.server.on('connect', answerConnect);
  // First, so that every answer carries these headers: the shutdown 503s, 401s and 415s from the hooks below included.
  const apiHeaders = { ...securityHeaders(API_SECURITY_HEADERS), ...CORS_VARY };
  const docsHeaders = { ...securityHeaders(DOCS_SECURITY_HEADERS), ...CORS_VARY };
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(DOCS_PAGE.test(request.url) ? docsHeaders : apiHeaders);
    reply.header('x-request-id', request.id);
    done();
  });
  registerCors(fastify, config.corsOrigins);
  answerWhileClosing(fastify); // after CORS, so that a browser can read the 503 and its Retry-After
  refuseEarly(fastify);
  registerAccessControl(fastify, config.access);
  requireJsonOnWrites(fastify);
  return adapter;
}

/** What must be set on the app before it starts; used by `createApp()` and by tests that override providers. */
export async function configureApp(app: NestFastifyApplication, config: AppConfig): Promise<NestFastifyApplication> {
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  app.get(RouteTable).attach(fastify);
  registerRequestLog(fastify, PinoLogger.root);
  registerHttpMetrics(fastify, app.get(NeolightMetrics));
  setupOpenApi(app, config);
  app.useBodyParser('application/json', { bodyLimit: config.bodyLimitBytes }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body, config.jsonLimits));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  await app.init();
  return app;
}
