import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ShutdownState } from '../src/common/shutdown.state.js';
import { StateRepository } from '../src/state/state.repository.js';
import { createTestApp, FIXTURE, fixtureWith } from './support/app.js';
import { getJson, postJson, startServer, tempRoot } from './support/server.js';
import { SlowStateStore } from './support/slow-store.js';

type Family = { name: string; type: string; metrics: { value?: string; labels?: Record<string, string>; count?: string }[] };

async function scrape(app: NestFastifyApplication): Promise<Map<string, Family>> {
  const res = await app.inject('/metrics');
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return new Map((parsePrometheusTextFormat(res.body) as Family[]).map((f) => [f.name, f]));
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample?.value === undefined ? undefined : Number(sample.value);
}

const post = (app: NestFastifyApplication, url: string, doc: unknown) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(doc) });

describe('GET /metrics after a realistic sequence', () => {
  let app: NestFastifyApplication;
  let root: string;

  beforeAll(async () => {
    root = tempRoot('neolight-metrics-');
    app = await createTestApp({ NEOLIGHT_ROOT: root });
  });
  afterAll(async () => {
    await app.close();
  });

  it('exports process, HTTP, ingest and trading-state metrics with the values that happened', async () => {
    // documents posted, a Guardian pause, files changed on disk
    expect((await post(app, '/meta/metrics', FIXTURE)).statusCode).toBe(200);
    const paused = fixtureWith(1, {
      guardian: { is_paused: true, drawdown: 8.5, reason: 'max drawdown' },
      breakers: { quote_state: 'OPEN', trade_state: 'HALF_OPEN' },
      market_regime: { regime: 'HIGH_VOLATILITY', risk_multiplier: 0.4 },
    });
    expect((await post(app, '/meta/metrics', paused)).statusCode).toBe(200);
    expect((await post(app, '/atlas/update', { type: 'trade', symbol: 'BTC' })).statusCode).toBe(200);
    mkdirSync(join(root, 'runtime'), { recursive: true });
    writeFileSync(join(root, 'runtime', 'capital_governor_allocations.json'), JSON.stringify({ allocations: { SmartTrader: 0.25, ArbitrageBot: 0.1 }, source: 'governor' }));
    // FILE_REFRESH_MS is 100 in tests: no request is needed for the gauge to follow (waited for, bounded)
    for (let i = 0; i < 50 && value(await scrape(app), 'neolight_capital_allocation', { agent: 'SmartTrader' }) === undefined; i++) await sleep(100);
    await app.inject('/nope');

    const m = await scrape(app);
    expect(value(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(m, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

    expect(value(m, 'http_requests_total', { method: 'POST', route: '/meta/metrics', status: '200' })).toBe(2);
    expect(value(m, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(m.get('http_request_duration_seconds')?.type).toBe('HISTOGRAM');

    expect(value(m, 'neolight_ingest_accepted_total')).toBe(3);
    expect(value(m, 'neolight_ingest_rejected_total')).toBe(0);
    expect(value(m, 'neolight_ingest_queue_depth')).toBe(0);
    expect(value(m, 'neolight_ingest_queue_capacity')).toBe(1024);
    expect(m.get('neolight_ingest_flush_duration_seconds')?.metrics[0].count).not.toBe('0');
    expect(value(m, 'neolight_ready')).toBe(1);

    const smart = paused.per_agent.SmartTrader;
    for (const field of ['pnl_1d', 'pnl_7d', 'sharpe_30d', 'winrate_30d', 'max_dd_30d']) {
      expect([field, value(m, `neolight_agent_${field}`, { agent: 'SmartTrader' })]).toEqual([field, smart[field]]);
    }
    expect(value(m, 'neolight_agents')).toBe(12);
    expect(value(m, 'neolight_strategy_score', { strategy: 'turtle_trading' })).toBe(FIXTURE.per_strategy.turtle_trading.score);
    expect(value(m, 'neolight_guardian_paused')).toBe(1);
    expect(value(m, 'neolight_guardian_drawdown')).toBe(8.5);
    expect(value(m, 'neolight_breaker_state', { breaker: 'quote', state: 'OPEN' })).toBe(1);
    expect(value(m, 'neolight_breaker_state', { breaker: 'quote', state: 'CLOSED' })).toBe(0);
    expect(value(m, 'neolight_breaker_state', { breaker: 'trade', state: 'HALF_OPEN' })).toBe(1);
    expect(value(m, 'neolight_market_regime', { regime: 'HIGH_VOLATILITY' })).toBe(1);
    expect(value(m, 'neolight_market_risk_multiplier')).toBe(0.4);
    expect(value(m, 'neolight_capital_allocation', { agent: 'SmartTrader' })).toBe(0.25);
    expect(value(m, 'neolight_meta_metrics_age_seconds')).toBeLessThan(5);
    expect(value(m, 'neolight_meta_metrics_stale')).toBe(0);
  });

  it('keeps a Guardian pause visible until the next document lifts it', async () => {
    expect((await post(app, '/meta/metrics', fixtureWith(2))).statusCode).toBe(200);
    expect(value(await scrape(app), 'neolight_guardian_paused')).toBe(0);
  });
});

describe('metric label cardinality', () => {
  it('labels at most METRICS_MAX_LABELLED agents and counts the rest', async () => {
    const app = await createTestApp({ NEOLIGHT_ROOT: tempRoot(), METRICS_MAX_LABELLED: '3' });
    try {
      await post(app, '/meta/metrics', FIXTURE);
      const m = await scrape(app);
      expect(m.get('neolight_agent_pnl_7d')?.metrics).toHaveLength(3);
      expect(value(m, 'neolight_agents_unlabelled')).toBe(9);
      expect(value(m, 'neolight_strategies_unlabelled')).toBe(17);
      await post(app, '/meta/metrics', { market_regime: { regime: 'free text, not a label', risk_multiplier: 1 } });
      expect(value(await scrape(app), 'neolight_market_regime', { regime: 'OTHER' })).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe('probes', () => {
  const probe = async (app: NestFastifyApplication, path: string) => {
    const res = await app.inject(path);
    return { status: res.statusCode, body: res.json() };
  };

  it('live, ready and startup answer 200 on a healthy service', async () => {
    const app = await createTestApp({ NEOLIGHT_ROOT: tempRoot() });
    try {
      for (const path of ['/health/live', '/health/ready', '/health/startup']) expect([path, (await probe(app, path)).status]).toEqual([path, 200]);
      expect((await probe(app, '/health/ready')).body.details).toMatchObject({ ingest: { status: 'up' }, storage: { status: 'up' }, heap: { status: 'up' } });
    } finally {
      await app.close();
    }
  });

  it('turns readiness 503 at once when shutdown begins, while liveness and /health stay 200', async () => {
    const app = await createTestApp({ NEOLIGHT_ROOT: tempRoot() });
    try {
      app.get(ShutdownState).begin();
      const ready = await probe(app, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ error: expect.stringContaining('ingest'), code: 503, details: { ingest: { status: 'down', message: 'shutting down' } } });
      expect((await probe(app, '/health/live')).status).toBe(200);
      expect((await probe(app, '/health')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('is not ready while the ingest queue is saturated', async () => {
    const root = tempRoot();
    const store = new SlowStateStore({ meta_metrics: join(root, 'state', 'meta_metrics.json'), atlas: join(root, 'state', 'atlas_state.json') }, 400);
    const app = await createTestApp({ NEOLIGHT_ROOT: root, INGEST_QUEUE_CAPACITY: '2' }, [[StateRepository, store]]);
    try {
      const pending = [post(app, '/atlas/update', { type: 'a' }), post(app, '/atlas/update', { type: 'b' })];
      await sleep(50);
      const ready = await probe(app, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.details.ingest).toMatchObject({ status: 'down', message: 'queue saturated', depth: 2, capacity: 2 });
      expect((await Promise.all(pending)).map((r) => r.statusCode)).toEqual([200, 200]);
      expect((await probe(app, '/health/ready')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('is not ready when the state directory takes no writes', async () => {
    const root = tempRoot();
    const store = new SlowStateStore({ meta_metrics: join(root, 'state', 'meta_metrics.json'), atlas: join(root, 'state', 'atlas_state.json') }, 0);
    store.probe = () => Promise.reject(Object.assign(new Error('read-only file system'), { code: 'EROFS' }));
    const app = await createTestApp({ NEOLIGHT_ROOT: root }, [[StateRepository, store]]);
    try {
      const ready = await probe(app, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.details.storage).toMatchObject({ status: 'down', message: expect.stringContaining('EROFS') });
    } finally {
      await app.close();
    }
  });

  it('is not ready after a failed write, and says why without naming a path', async () => {
    const root = tempRoot();
    const app = await createTestApp({ NEOLIGHT_ROOT: root, METRICS_PATH: join(root, 'elsewhere', 'meta.json') });
    try {
      // The document's directory turns into a file: every write now fails with ENOTDIR.
      rmSync(join(root, 'elsewhere'), { recursive: true });
      writeFileSync(join(root, 'elsewhere'), 'not a directory');
      expect((await post(app, '/meta/metrics', FIXTURE)).statusCode).toBe(503);
      const ready = await probe(app, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.details.ingest).toMatchObject({ status: 'down', message: 'last write failed (meta_metrics: ENOTDIR)' });
      expect(JSON.stringify(ready.body)).not.toContain(root);
    } finally {
      await app.close();
    }
  });

  it('is ready with both documents outside state/, which need not exist', async () => {
    const root = tempRoot();
    const app = await createTestApp({ NEOLIGHT_ROOT: root, METRICS_PATH: join(root, 'other', 'meta.json'), ATLAS_PATH: join(root, 'other', 'atlas.json') });
    try {
      const ready = await probe(app, '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.storage).toMatchObject({ status: 'up', free_bytes: expect.any(Number) });
      // /status measures the same volume: not 0 % for a state/ that does not exist
      expect((await app.inject('/status')).json().system.disk).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('is ready with the in-memory store, and says it measured no disk', async () => {
    const root = tempRoot();
    const app = await createTestApp({ NEOLIGHT_ROOT: join(root, 'never-created'), STATE_STORE: 'memory' });
    try {
      const ready = await probe(app, '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.storage).toEqual({ status: 'up', message: 'no document directory to measure' });
    } finally {
      await app.close();
    }
  });

  it('is not ready below the free-disk threshold or above the heap threshold', async () => {
    const low = await createTestApp({ NEOLIGHT_ROOT: tempRoot(), READY_MIN_FREE_DISK_BYTES: String(Number.MAX_SAFE_INTEGER) });
    try {
      const ready = await probe(low, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.details.storage).toMatchObject({ status: 'down', message: 'low disk space' });
    } finally {
      await low.close();
    }
    const full = await createTestApp({ NEOLIGHT_ROOT: tempRoot(), READY_MAX_HEAP_PERCENT: '1' });
    try {
      const ready = await probe(full, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.details.heap).toMatchObject({ status: 'down', message: 'heap nearly full' });
      expect((await probe(full, '/health/live')).status).toBe(200);
    } finally {
      await full.close();
    }
  });
});

describe('log lines of a real server', () => {
  it('are JSON on stdout and in LOG_PATH, carry the request id, never the token, and leave probes out at info', async () => {
    const root = tempRoot('neolight-logs-');
    const logPath = join(root, 'logs', 'dashboard.log');
    const server = await startServer({ NEOLIGHT_ROOT: root, LOG_PATH: logPath, STALE_AFTER_SECONDS: '1' });
    try {
      const secret = 'Bearer s3cr3t-token-value';
      await fetch(`${server.url}/meta/metrics`, { headers: { 'x-request-id': 'trace-42', authorization: secret } });
      await postJson(`${server.url}/meta/metrics`, { per_agent: null });
      await getJson(`${server.url}/health`);
      await getJson(`${server.url}//health`); // the same probe: the router ignores repeated slashes
      await getJson(`${server.url}/health/ready`);
      await fetch(`${server.url}/metrics`);
      await sleep(1800); // STALE_AFTER_SECONDS=1: the staleness warning is due; buffered lines flush within 250 ms
      await server.kill('SIGTERM');

      const fileLines = readFileSync(logPath, 'utf8').trim().split('\n');
      const stdoutLines = server.lines.filter((l) => l.trim() !== '');
      for (const lines of [fileLines, stdoutLines]) {
        const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        for (const e of entries) expect(e).toMatchObject({ level: expect.any(String), timestamp: expect.any(String), message: expect.any(String) });
        const requests = entries.filter((e) => e.message === 'request completed');
        expect(requests.find((e) => e.reqId === 'trace-42')).toMatchObject({ method: 'GET', url: '/meta/metrics', status: 200 });
        expect(requests.find((e) => e.status === 400)).toMatchObject({ level: 'warn', method: 'POST' });
        expect(requests.filter((e) => /^\/+(health|metrics)/.test(String(e.url)))).toEqual([]);
        expect(entries.some((e) => e.level === 'warn' && String(e.message).includes('stale'))).toBe(true);
        expect(lines.join('\n')).not.toContain('s3cr3t');
      }
    } finally {
      await server.kill('SIGKILL');
    }
  });

  it('at LOG_LEVEL=debug, carry the debug lines (probes) to LOG_PATH and stdout alike', async () => {
    const root = tempRoot('neolight-debug-logs-');
    const logPath = join(root, 'dashboard.log');
    const server = await startServer({ NEOLIGHT_ROOT: root, LOG_PATH: logPath, LOG_LEVEL: 'debug' });
    try {
      await getJson(`${server.url}/health`);
      expect(await server.kill('SIGTERM')).toBe(0);

      const fileLines = readFileSync(logPath, 'utf8').trim().split('\n');
      const stdoutLines = server.lines.filter((l) => l.trim() !== '');
      for (const lines of [fileLines, stdoutLines]) {
        const probes = lines
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((e) => e.message === 'request completed' && e.url === '/health');
        expect(probes).toEqual([expect.objectContaining({ level: 'debug', status: 200 })]);
      }
    } finally {
      await server.kill('SIGKILL');
    }
  });
});
