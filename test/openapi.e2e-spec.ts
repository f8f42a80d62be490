import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LightMyRequestResponse } from 'fastify';
import { RouteTable } from '../src/common/route-table.js';
import { ShutdownState } from '../src/common/shutdown.state.js';
import { loadConfig } from '../src/config/app.config.js';
import { META_METRICS_SCHEMA } from '../src/meta/meta-metrics.schema.js';
import { AgentFileCache } from '../src/state/agent-file.cache.js';
import { ATLAS_UPDATE_SCHEMA } from '../src/telemetry/atlas.schema.js';
import { createTestApp, FIXTURE, fixtureWith } from './support/app.js';
import { danglingRefs, OpenApiValidator } from './support/openapi.js';
import { tempRoot } from './support/server.js';

/**
 * The OpenAPI document at /docs-json against the app that serves it: every route is documented,
 * and every real answer (successes and errors) matches the schema its operation declares.
 */
describe('OpenAPI document (inject)', () => {
  let app: NestFastifyApplication;
  let root: string;
  let api: OpenApiValidator;
  /** `"GET /meta/metrics"` of every operation a test got a real answer from. */
  const exercised = new Set<string>();

  beforeAll(async () => {
    root = tempRoot('neolight-openapi-');
    app = await createTestApp({ NEOLIGHT_ROOT: root, BODY_LIMIT_BYTES: '65536' });
    const res = await app.inject('/docs-json');
    expect(res.statusCode).toBe(200);
    api = new OpenApiValidator(res.json());
  });
  afterAll(async () => {
    await app.close();
  });

  const json = { 'content-type': 'application/json' };

  /**
   * Sends a request to the route `path` documents and checks the answer against what the document
   * declares for its status: the media type, the declared headers, and the body's schema.
   */
  async function call(
    method: 'GET' | 'POST',
    path: string,
    options: { url?: string; payload?: unknown; headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse> {
    const payload =
      options.payload === undefined || typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload);
    const res = await app.inject({ method, url: options.url ?? path, payload, headers: options.headers });
    const declared = api.declared(method, path, res.statusCode);
    expect({ route: `${method} ${path}`, status: res.statusCode, declared: declared !== undefined }).toEqual({
      route: `${method} ${path}`,
      status: res.statusCode,
      declared: true,
    });
    exercised.add(`${method} ${path}`);
    for (const header of Object.keys(declared!.response.headers ?? {})) expect(res.headers).toHaveProperty(header.toLowerCase());
    const content = declared!.response.content as Record<string, unknown> | undefined;
    if (!content) {
      expect(res.body).toBe('');
      return res;
    }
    const mediaType = Object.keys(content).find((type) => String(res.headers['content-type']).startsWith(type));
    expect({ route: `${method} ${path}`, contentType: res.headers['content-type'], declared: mediaType !== undefined }).toMatchObject({
      declared: true,
    });
    if (mediaType === 'application/json') {
      const validate = api.responseValidator(method, path, declared!.key, mediaType);
      const valid = validate(res.json());
      expect({ route: `${method} ${path}`, status: res.statusCode, errors: valid ? null : validate.errors }).toEqual({
        route: `${method} ${path}`,
        status: res.statusCode,
        errors: null,
      });
    }
    return res;
  }

  /** An answer that belongs to no operation (unknown path, wrong method): the error shape itself. */
  function expectErrorShape(res: LightMyRequestResponse): void {
    const validate = api.component('ErrorResponse');
    expect({ status: res.statusCode, valid: validate(res.json()), errors: validate.errors ?? null }).toEqual({
      status: res.statusCode,
      valid: true,
      errors: null,
    });
  }

  it('serves an OpenAPI 3.1 document at /docs-json and the Swagger UI at /docs', async () => {
    expect(api.document).toMatchObject({ openapi: '3.1.0', info: { title: expect.any(String), version: loadConfig({}).version } });
    const ui = await app.inject('/docs');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
    expect(ui.body).toContain('swagger-ui');
    const init = await app.inject('/docs/swagger-ui-init.js');
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('NeoLight Dashboard API');
    expect((await app.inject('/docs/swagger-ui-bundle.js')).statusCode).toBe(200);
  });

  it('documents every route the app serves, and nothing it does not serve', async () => {
    const served = app.get(RouteTable).endpoints();
    expect(served).toEqual(expect.arrayContaining(['GET /docs', 'GET /docs-json', 'POST /meta/metrics']));
    const documented = api.operations();
    expect(served.filter((route) => !documented.includes(route))).toEqual([]);
    expect(documented.filter((route) => !served.includes(route))).toEqual([]);
  });

  it('leaves the Swagger UI assets out of the route list', async () => {
    const endpoints: string[] = (await app.inject('/')).json().endpoints;
    expect(endpoints.filter((e) => e.includes('/docs/'))).toEqual([]);
  });

  it("links the README's API table to operations that exist, and the Swagger UI opens them (deep linking)", async () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const links = [...readme.matchAll(/\/docs#\/(\w+)\/(\w+)\)/g)].map(([, tag, id]) => `${tag}/${id}`);
    const operations = api.operations().map((route) => {
      const [method, path] = route.split(' ');
      const op = api.operation(method, path)!;
      return `${op.tags[0]}/${op.operationId}`;
    });
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((link) => !operations.includes(link))).toEqual([]);
    expect((await app.inject('/docs/swagger-ui-init.js')).body).toMatch(/"deepLinking":\s*true/);
  });

  it('resolves every $ref inside the document', async () => {
    expect(danglingRefs(api.document)).toEqual([]);
  });

  it('gives every operation an id, a summary and a tag', async () => {
    for (const route of api.operations()) {
      const [method, path] = route.split(' ');
      const op = api.operation(method, path)!;
      expect({ route, operationId: typeof op.operationId, summary: typeof op.summary, tags: op.tags?.length > 0 }).toEqual({
        route,
        operationId: 'string',
        summary: 'string',
        tags: true,
      });
    }
  });

  it('documents the request bodies with the very schemas the service validates with', async () => {
    const schemas = api.document.components.schemas;
    expect(schemas.MetaMetricsDocument.properties).toEqual(META_METRICS_SCHEMA.properties);
    expect(schemas.AtlasUpdate.properties).toEqual(ATLAS_UPDATE_SCHEMA.properties);
    expect(api.operation('POST', '/meta/metrics')!.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/MetaMetricsDocument',
    });
    expect(api.operation('POST', '/atlas/update')!.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AtlasUpdate',
    });
  });

  it('describes the error shape with an optional details array', async () => {
    const validate = api.component('ErrorResponse');
    expect(validate({ error: 'bad', code: 400, details: [{ path: '/per_agent', message: 'must be object' }] })).toBe(true);
    expect(validate({ error: 'bad' })).toBe(false);
    expect(validate({ error: 'bad', code: '400' })).toBe(false);
  });

  describe('real answers match their declared schemas', () => {
    it('every GET route before any document was posted (defaults)', async () => {
      for (const path of [
        '/',
        '/health',
        '/status',
        '/meta/metrics',
        '/meta/performance',
        '/meta/regime',
        '/governor/allocations',
        '/atlas/state',
      ]) {
        expect((await call('GET', path)).statusCode).toBe(200);
      }
      for (const path of ['/health/live', '/health/ready', '/health/startup', '/metrics', '/docs', '/docs-json']) {
        expect((await call('GET', path)).statusCode).toBe(200);
      }
      expect((await call('GET', '/meta/metrics')).json().stale).toBe(true);
    });

    it('meta-metrics: accepted documents, the served document, 304, and every refusal', async () => {
      expect((await call('POST', '/meta/metrics', { payload: fixtureWith(1), headers: json })).statusCode).toBe(200);
      const partial = { stress_last: { scenario: 'flash_crash', passed: true }, stress_timestamp: '2026-11-21T15:00:00Z' };
      expect((await call('POST', '/meta/metrics', { payload: partial, headers: json })).statusCode).toBe(200);
      const served = await call('GET', '/meta/metrics');
      expect(served.json()).toMatchObject({ per_agent: fixtureWith(1).per_agent, stress_last: partial.stress_last });
      const etag = served.headers.etag as string;
      expect((await call('GET', '/meta/metrics', { headers: { 'if-none-match': etag } })).statusCode).toBe(304);

      const invalid = await call('POST', '/meta/metrics', { payload: { per_agent: { A: { pnl_7d: 'x' } } }, headers: json });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json().details).toEqual([expect.objectContaining({ path: '/per_agent/A/pnl_7d' })]);
      expect((await call('POST', '/meta/metrics', { payload: '{"per_agent": {', headers: json })).statusCode).toBe(400);
      expect((await call('POST', '/meta/metrics', { payload: '{}', headers: { 'content-type': 'text/plain' } })).statusCode).toBe(415);
      const tooLarge = { ...FIXTURE, padding: 'x'.repeat(70_000) };
      expect((await call('POST', '/meta/metrics', { payload: tooLarge, headers: json })).statusCode).toBe(413);
    });

    it('atlas: bridge and trader updates, the state they build, and a refusal', async () => {
      const bridge = { brain: 'atlas-v2', allocations: { SmartTrader: 0.6, RevenueAgent: 0.4 }, timestamp: '2026-11-21T14:30:00Z' };
      expect((await call('POST', '/atlas/update', { payload: bridge, headers: json })).statusCode).toBe(200);
      const trade = { type: 'trade', symbol: 'BTC-USD', side: 'buy', qty: 0.01, price: 97000.5 };
      expect((await call('POST', '/atlas/update', { payload: trade, headers: json })).statusCode).toBe(200);
      expect((await call('POST', '/atlas/update', { payload: { type: 'no spaces allowed' }, headers: json })).statusCode).toBe(400);
      const state = await call('GET', '/atlas/state');
      expect(Object.keys(state.json().latest).sort()).toEqual(['bridge', 'trade']);
    });

    it('the agent files as the agents write them (NaN included), and a file that never read well', async () => {
      mkdirSync(join(root, 'runtime'), { recursive: true });
      writeFileSync(
        join(root, 'state', 'performance_attribution.json'),
        JSON.stringify({
          decisions: [
            {
              agent: 'SmartTrader',
              decision: 'BUY',
              reasoning: 'momentum',
              timestamp: '2026-11-21T14:00:00Z',
              pnl: 12.5,
              pnl_attributed: 10,
            },
          ],
          last_update: '2026-11-21T14:00:00Z',
        }),
      );
      writeFileSync(
        join(root, 'runtime', 'market_regime.json'),
        '{"regime": "BULL", "timestamp": "2026-11-21T14:00:00Z", "risk_multiplier": NaN, "strategy": {"bias": "long"}, "description": "trend"}',
      );
      writeFileSync(
        join(root, 'runtime', 'capital_governor_allocations.json'),
        JSON.stringify({
          allocations: { SmartTrader: 0.7, RevenueAgent: 0.3 },
          source: 'governor',
          timestamp: 1763733600,
          min_allocation: 0.05,
          max_allocation: 0.8,
        }),
      );
      await app.get(AgentFileCache).refresh();
      expect((await call('GET', '/meta/performance')).json().decisions).toHaveLength(1);
      expect((await call('GET', '/meta/regime')).json()).toMatchObject({ regime: 'BULL', risk_multiplier: null });
      expect((await call('GET', '/governor/allocations')).json().source).toBe('governor');

      rmSync(join(root, 'runtime', 'capital_governor_allocations.json'));
      writeFileSync(join(root, 'runtime', 'allocations_override.json'), '{"allocations": {"SmartTr');
      await app.get(AgentFileCache).refresh();
      expect((await call('GET', '/governor/allocations')).statusCode).toBe(500);
    });

    it('answers outside any operation (unknown path, wrong method) in the error shape', async () => {
      const missing = await app.inject('/nope');
      expect(missing.statusCode).toBe(404);
      expectErrorShape(missing);
      const wrongMethod = await app.inject({ method: 'DELETE', url: '/meta/metrics' });
      expect(wrongMethod.statusCode).toBe(405);
      expectErrorShape(wrongMethod);
    });

    it('while shutting down: readiness, writes and the event stream answer their declared 503s', async () => {
      app.get(ShutdownState).begin();
      const notReady = await call('GET', '/health/ready');
      expect(notReady.statusCode).toBe(503);
      expect(api.component('ProbeFailure')(notReady.json())).toBe(true);
      expect((await call('POST', '/meta/metrics', { payload: fixtureWith(2), headers: json })).statusCode).toBe(503);
      expect((await call('POST', '/atlas/update', { payload: { type: 'trade' }, headers: json })).statusCode).toBe(503);
      expect((await call('GET', '/meta/stream')).statusCode).toBe(503);
    });

    it('exercised every documented operation', async () => {
      expect(api.operations().filter((route) => !exercised.has(route))).toEqual([]);
    });
  });
});
