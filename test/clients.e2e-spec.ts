import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIXTURE, fixtureWith } from './support/app.js';
import { getJson, postJson, runToExit, startServer, tempRoot, type RunningServer } from './support/server.js';

/**
 * The built server on a real port, driven the way each client in CONTRACT.md drives it: same
 * calls, same order, same timeouts, same checks. Then stopped and restarted on the same data.
 */
describe('existing clients over a real socket', () => {
  let root: string;
  let server: RunningServer;
  const logPath = () => join(root, 'logs', 'dashboard.log');

  beforeAll(async () => {
    root = tempRoot();
    server = await startServer({ NEOLIGHT_ROOT: root, FILE_REFRESH_MS: '200', LOG_PATH: logPath() });
  });
  afterAll(async () => {
    await server.kill('SIGKILL');
  });

  /** hive telemetry: GET /status (2 s) then POST /meta/metrics (10 s), 3 tries, backoff on non-200. */
  async function telemetryPush(doc: unknown): Promise<boolean> {
    const status = await fetch(`${server.url}/status`, { signal: AbortSignal.timeout(2000) });
    if (status.status !== 200) return false;
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await postJson(`${server.url}/meta/metrics`, doc, 10000);
      if (res.status === 200) return true;
      await sleep(50 * (attempt + 1));
    }
    return false;
  }

  /** capital governor: GET /status (3 s) then GET /meta/metrics (10 s) and its type expectations. */
  async function governorRead(): Promise<any> {
    expect((await fetch(`${server.url}/status`, { signal: AbortSignal.timeout(3000) })).status).toBe(200);
    const { status, body } = await getJson(`${server.url}/meta/metrics`, 10000);
    expect(status).toBe(200);
    expect(typeof body).toBe('object');
    expect('per_agent' in body || 'timestamp' in body).toBe(true);
    for (const agent of Object.values<Record<string, unknown>>(body.per_agent ?? {})) {
      for (const key of ['pnl_7d', 'sharpe_30d', 'winrate_30d', 'max_dd_30d']) expect(typeof agent[key]).toBe('number');
    }
    if (body.guardian !== undefined) expect(typeof body.guardian.is_paused).toBe('boolean');
    if (body.market_regime?.risk_multiplier !== undefined) expect(typeof body.market_regime.risk_multiplier).toBe('number');
    return body;
  }

  it('answers the failover monitors: /health and /status 200 with their shapes', async () => {
    const health = await getJson(`${server.url}/health`, 1000);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    const status = await getJson(`${server.url}/status`, 2000);
    expect(status.status).toBe(200);
    expect(Object.keys(status.body.system).sort()).toEqual(expect.arrayContaining(['cpu', 'disk', 'memory', 'uptime']));
  });

  it('serves the governor a well-formed default document before any telemetry', async () => {
    const body = await governorRead();
    expect(body.per_agent).toEqual({});
    expect(body.guardian.is_paused).toBe(false);
    expect(body.stale).toBe(true);
  });

  it('takes the telemetry push and hands the governor exactly that document', async () => {
    expect(await telemetryPush(FIXTURE)).toBe(true);
    const body = await governorRead();
    expect(body.per_agent).toEqual(FIXTURE.per_agent);
    expect(body.market_regime).toEqual(FIXTURE.market_regime);
  });

  it('shows the execution router a Guardian pause as soon as it is acknowledged', async () => {
    const paused = fixtureWith(7, { guardian: { is_paused: true, drawdown: 9.1, reason: 'max drawdown' } });
    expect(await telemetryPush(paused)).toBe(true);
    const { body } = await getJson(`${server.url}/meta/metrics`, 2000);
    expect(body.guardian.is_paused).toBe(true);
    expect(await telemetryPush(fixtureWith(8))).toBe(true);
    expect((await getJson(`${server.url}/meta/metrics`, 2000)).body.guardian.is_paused).toBe(false);
  });

  it('keeps meta-metrics untouched while the atlas bridge and the trader post in between', async () => {
    expect(await telemetryPush(fixtureWith(9))).toBe(true);
    const before = (await getJson(`${server.url}/meta/metrics`)).body;
    const posts = [
      postJson(`${server.url}/atlas/update`, { brain: { state: 'ok' }, allocations: { SmartTrader: 0.3 }, timestamp: new Date().toISOString() }, 5000),
      postJson(`${server.url}/atlas/update`, { type: 'telemetry', loops: 60 }, 5000),
      postJson(`${server.url}/atlas/update`, { type: 'trade', symbol: 'BTC-USD', qty: 0.1 }, 5000),
      postJson(`${server.url}/atlas/update`, { type: 'guardian_pause', reason: 'test' }, 5000),
      postJson(`${server.url}/atlas/update`, { type: 'mode_transition', to: 'PAPER_TRADING_MODE' }, 5000),
      postJson(`${server.url}/atlas/update`, { type: 'test_trade', ok: true }, 5000),
    ];
    expect((await Promise.all(posts)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const after = (await getJson(`${server.url}/meta/metrics`)).body;
    expect({ ...after, age_seconds: 0 }).toEqual({ ...before, age_seconds: 0 });
    const atlas = (await getJson(`${server.url}/atlas/state`)).body;
    expect(Object.keys(atlas.latest).sort()).toEqual(['bridge', 'guardian_pause', 'mode_transition', 'telemetry', 'test_trade', 'trade']);
  });

  it("merges the stress runner's partial document: per_agent and guardian survive", async () => {
    expect(await telemetryPush(fixtureWith(10))).toBe(true);
    const res = await postJson(`${server.url}/meta/metrics`, { stress_last: { scenario: 'gap_down', max_loss: -3.2 }, stress_timestamp: '2026-11-21T16:00:00Z' });
    expect(res.status).toBe(200);
    const body = await governorRead();
    expect(body.per_agent).toEqual(fixtureWith(10).per_agent);
    expect(body.guardian).toEqual(FIXTURE.guardian);
    expect(body.stress_timestamp).toBe('2026-11-21T16:00:00Z');
  });

  describe('file-backed routes follow the files the Python agents write', () => {
    const runtime = () => join(root, 'runtime');
    const waitFor = async (url: string, predicate: (body: any) => boolean) => {
      const deadline = Date.now() + 1500;
      for (;;) {
        const { body } = await getJson(`${server.url}${url}`);
        if (predicate(body) || Date.now() > deadline) return body;
        await sleep(50);
      }
    };

    it('gives the contract defaults while the files are missing', async () => {
      expect((await getJson(`${server.url}/meta/performance`)).body).toEqual({ decisions: [], last_update: null });
      expect((await getJson(`${server.url}/meta/regime`)).body).toMatchObject({ regime: 'UNKNOWN', timestamp: expect.any(String) });
      expect((await getJson(`${server.url}/governor/allocations`)).body).toMatchObject({ allocations: {}, timestamp: expect.any(String) });
    });

    it('shows a written file within a second, reads NaN as null, and keeps the last good copy of a half-written one', async () => {
      mkdirSync(runtime(), { recursive: true });
      writeFileSync(join(runtime(), 'market_regime.json'), '{"regime": "BULL", "risk_multiplier": 1.2, "confidence": NaN, "timestamp": "t1"}');
      const regime = await waitFor('/meta/regime', (b) => b.regime === 'BULL');
      expect(regime).toEqual({ regime: 'BULL', risk_multiplier: 1.2, confidence: null, timestamp: 't1' });

      writeFileSync(join(runtime(), 'market_regime.json'), '{"regime": "BEAR", "risk_mul');
      await sleep(700);
      expect((await getJson(`${server.url}/meta/regime`)).body.regime).toBe('BULL');

      writeFileSync(join(runtime(), 'market_regime.json'), '{"regime": "BEAR", "risk_multiplier": Infinity}');
      const fixed = await waitFor('/meta/regime', (b) => b.regime === 'BEAR');
      expect(fixed).toEqual({ regime: 'BEAR', risk_multiplier: null });
    });

    it('falls back from a corrupt primary allocations file to the override', async () => {
      writeFileSync(join(runtime(), 'capital_governor_allocations.json'), '{"allocations": {"A": 0.');
      writeFileSync(join(runtime(), 'allocations_override.json'), JSON.stringify({ allocations: { A: 0.4 }, source: 'override', timestamp: 't' }));
      const fromOverride = await waitFor('/governor/allocations', (b) => b.source === 'override');
      expect(fromOverride.allocations).toEqual({ A: 0.4 });
      writeFileSync(join(runtime(), 'capital_governor_allocations.json'), JSON.stringify({ allocations: { A: 0.7 }, source: 'governor', timestamp: 't' }));
      expect((await waitFor('/governor/allocations', (b) => b.source === 'governor')).allocations).toEqual({ A: 0.7 });
    });

    it('serves performance attribution as written', async () => {
      const doc = { decisions: [{ agent: 'SmartTrader', decision: 'buy', reasoning: 'x', timestamp: 't', pnl: 1.5, pnl_attributed: NaN }], last_update: 't' };
      mkdirSync(join(root, 'state'), { recursive: true });
      writeFileSync(join(root, 'state', 'performance_attribution.json'), JSON.stringify(doc).replace('null', 'NaN'));
      const body = await waitFor('/meta/performance', (b) => b.last_update === 't');
      expect(body.decisions[0]).toMatchObject({ agent: 'SmartTrader', pnl: 1.5, pnl_attributed: null });
    });
  });

  it('writes every log line as JSON to stdout and to LOG_PATH', async () => {
    await getJson(`${server.url}/meta/metrics`);
    await sleep(100);
    const fileLines = readFileSync(logPath(), 'utf8').trim().split('\n');
    expect(fileLines.length).toBeGreaterThan(5);
    for (const line of [...fileLines, ...server.lines.filter(Boolean)]) {
      const entry = JSON.parse(line);
      expect(entry).toMatchObject({ level: expect.any(String), timestamp: expect.any(String) });
    }
    expect(fileLines.some((l) => JSON.parse(l).message === 'request completed')).toBe(true);
  });

  it('drains and exits 0 on SIGTERM, and serves the same document after a restart', async () => {
    expect(await telemetryPush(fixtureWith(11, { guardian: { is_paused: true, drawdown: 5, reason: 'restart test' } }))).toBe(true);
    const before = (await getJson(`${server.url}/meta/metrics`)).body;
    expect(await server.kill('SIGTERM')).toBe(0);
    server = await startServer({ NEOLIGHT_ROOT: root, FILE_REFRESH_MS: '200' });
    const after = await governorRead();
    expect(after.per_agent).toEqual(before.per_agent);
    expect(after.guardian.is_paused).toBe(true);
    expect(after.cache_timestamp).toBe(before.cache_timestamp);
  });

  it('keeps every acknowledged document across a SIGKILL', async () => {
    expect(await telemetryPush(fixtureWith(12))).toBe(true);
    expect(await server.kill('SIGKILL')).toBe('SIGKILL');
    server = await startServer({ NEOLIGHT_ROOT: root, FILE_REFRESH_MS: '200' });
    expect((await governorRead()).seq).toBe(12);
  });
});

describe('configuration at boot', () => {
  it.each([
    ['NEOLIGHT_DASHBOARD_PORT', 'eighty'],
    ['PORT', '70000'],
    ['INGEST_ACK', 'sometimes'],
    ['LOG_LEVEL', 'loud'],
  ])('stops with one message naming %s when it is bad', async (name, value) => {
    const { code, stderr } = await runToExit({ [name]: value, NEOLIGHT_ROOT: tempRoot() });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(name);
  });

  it('stops with one message naming the state file when it cannot be read (a directory)', async () => {
    const root = tempRoot();
    mkdirSync(join(root, 'state', 'meta_metrics.json'), { recursive: true });
    const { code, stderr } = await runToExit({ NEOLIGHT_ROOT: root });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([`could not start: cannot read the stored document ${join(root, 'state', 'meta_metrics.json')} (EISDIR)`]);
  });

  it('stops with one message when its port is taken', async () => {
    const first = await startServer({ NEOLIGHT_ROOT: tempRoot() });
    try {
      const { code, stderr } = await runToExit({ NEOLIGHT_ROOT: tempRoot(), HOST: '127.0.0.1', PORT: String(first.port) });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^could not start: .*EADDRINUSE/)]);
    } finally {
      await first.kill('SIGKILL');
    }
  });

  it('honours the old METRICS_PATH name', async () => {
    const root = tempRoot();
    const metricsPath = join(root, 'elsewhere', 'mm.json');
    const server = await startServer({ NEOLIGHT_ROOT: root, METRICS_PATH: metricsPath });
    try {
      expect((await postJson(`${server.url}/meta/metrics`, fixtureWith(1))).status).toBe(200);
      expect(JSON.parse(readFileSync(metricsPath, 'utf8')).seq).toBe(1);
    } finally {
      await server.kill('SIGKILL');
    }
  });
});
