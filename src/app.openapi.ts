import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { COMMON_SCHEMAS } from './common/api-docs.js';
import { RouteTable } from './common/route-table.js';
import { AppConfig } from './config/app.config.js';
import { GOVERNOR_SCHEMAS } from './governor/governor.openapi.js';
import { HEALTH_SCHEMAS } from './health/health.openapi.js';
import { META_SCHEMAS } from './meta/meta.openapi.js';
import { ATLAS_SCHEMAS } from './telemetry/atlas.openapi.js';

/** The browsable Swagger UI. */
export const DOCS_PATH = '/docs';
/** The OpenAPI document itself, as JSON. */
export const DOCS_JSON_PATH = '/docs-json';

const DESCRIPTION = [
  'The REST service the NeoLight trading agents report to and read from: a drop-in for the old Go dashboard on port 8100.',
  'Routing is case-insensitive, tolerates a trailing slash, answers HEAD on every GET and CORS preflights with 204.',
  'Writes take `application/json` only (else 415), up to BODY_LIMIT_BYTES (4 MiB by default, else 413).',
  'Every error, whatever its cause, is `{"error": "<message>", "code": <status>}`, plus `details`: the validation failures on a 400,',
  "terminus' report on a failing readiness probe.",
].join(' ');

/**
 * The OpenAPI 3.1 document: operations from the controllers' decorators, schemas from each
 * feature's `*.openapi.ts` (the request schemas are the very JSON Schemas the service validates
 * with), and the two documentation routes themselves.
 */
export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const base = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('NeoLight Dashboard API')
    .setDescription(DESCRIPTION)
    .setVersion(config.version)
    .addTag('service', 'Banner, legacy health and status: what shell tools and failover monitors poll')
    .addTag('meta', 'The meta-metrics document: posted by hive telemetry and the stress runner, read by the governor and the router')
    .addTag('atlas', 'Atlas updates from the trader and the atlas bridge, kept apart from meta-metrics')
    .addTag('governor', 'Capital allocations written by the capital governor')
    .addTag('probes', 'Kubernetes liveness, readiness and startup probes')
    .addTag('observability', 'Prometheus metrics')
    .addTag('docs', 'This documentation')
    .build();
  const document = SwaggerModule.createDocument(app, base, { autoTagControllers: false });
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ...COMMON_SCHEMAS,
      ...HEALTH_SCHEMAS,
      ...META_SCHEMAS,
      ...ATLAS_SCHEMAS,
      ...GOVERNOR_SCHEMAS,
    },
  };
  document.paths[DOCS_PATH] = {
    get: {
      tags: ['docs'],
      summary: 'Browsable API documentation (Swagger UI)',
      operationId: 'docs_ui',
      responses: { '200': { description: 'The Swagger UI page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  };
  document.paths[DOCS_JSON_PATH] = {
    get: {
      tags: ['docs'],
      summary: 'This OpenAPI document',
      operationId: 'docs_json',
      responses: {
        '200': {
          description: 'The OpenAPI 3.1 document',
          content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'info', 'paths'] } } },
        },
      },
    },
  };
  return document;
}

/**
 * Serves the document at `/docs-json` and the Swagger UI at `/docs` (its assets below `/docs/`
 * are kept out of the route table). The document is built on the first request, not at boot.
 */
export function setupOpenApi(app: INestApplication, config: AppConfig): void {
  app.get(RouteTable).hideBelow(DOCS_PATH);
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app, config), {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'NeoLight Dashboard API',
    // `/docs#/<tag>/<operationId>` opens that operation (the README links to them).
    swaggerOptions: { deepLinking: true },
  });
}
