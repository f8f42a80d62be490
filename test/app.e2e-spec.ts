import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempRoot } from './support/server.js';
import { createTestApp, FIXTURE, fixtureWith } from './support/app.js';

/** Every route of the contract through `app.inject()`: shapes, routing rules, error shape. */
describe('NeoLight Dashboard routes (inject)', () => {
  let app: NestFastifyApplication;
  let root: string;

  beforeAll(async () => {
    root = tempRoot();
    app = await createTestApp({ NEOLIGHT_ROOT: root });
  });
  afterAll(async () => {
    await app.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  const post = (url: string, payload: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers });

  it('GET / lists every route, POSTs included', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ service: 'neolight-dashboard', status: 'running', version: expect.any(String), uptime: expect.stringMatching(/^\d+h\d+m$/) });
    expect(body.endpoints).toEqual(
      expect.arrayContaining([
        'GET /',
        'GET /health',
        'GET /status',
        'GET /meta/metrics',
        'POST /meta/metrics',
        'GET /meta/performance',
        'GET /meta/regime',
        'GET /governor/allocations',
        'POST /atlas/update',
        'GET /atlas/state',
      ]),
    );
  });

  it('GET /health keeps the legacy shape', async () => {
    const res = await get('/health');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(body).toMatchObject({ status: 'ok', uptime: expect.stringMatching(/^\d+h\d+m$/), version: expect.any(String) });
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
    expect(typeof body.uptime_seconds).toBe('number');
  });

  it('GET /status reports real numbers in the old shape', async () => {
    const body = (await get('/status')).json();
    expect(body.guardian).toMatchObject({ logs: {}, agents: [] });
    for (const key of ['cpu', 'memory', 'disk'] as const) {
      expect(typeof body.system[key]).toBe('number');
      expect(body.system[key]).toBeGreaterThanOrEqual(0);
      expect(body.system[key]).toBeLessThanOrEqual(100);
    }
    expect(body.system.memory).toBeGreaterThan(0);
    expect(body.system.disk).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(body.system.uptime))).toBe(false);
    expect(typeof body.system.uptime_seconds).toBe('number');
  });

  it('serves a well-formed, stale-marked default document before any POST', async () => {
    const body = (await get('/meta/metrics')).json();
    expect(body).toMatchObject({
      per_agent: {},
      per_strategy: {},
      guardian: { is_paused: false },
      mode: 'TEST_MODE',
      summary: { total_agents: 0, total_strategies: 0 },
      stale: true,
    });
    for (const key of ['timestamp', 'breakers', 'market_regime', 'cache_timestamp', 'age_seconds']) expect(body).toHaveProperty(key);
  });

  it('accepts a document, serves it back with cache_timestamp and age, and persists it', async () => {
    const doc = fixtureWith(1);
    const res = await post('/meta/metrics', doc);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', timestamp: expect.any(String) });
    const body = (await get('/meta/metrics')).json();
    expect(body.per_agent).toEqual(doc.per_agent);
    expect(body.guardian).toEqual(doc.guardian);
    expect(body.stale).toBeUndefined();
    expect(body.cache_timestamp).toBe(res.json().timestamp);
    expect(body.age_seconds).toBeGreaterThanOrEqual(0);
    const onDisk = JSON.parse(readFileSync(join(root, 'state', 'meta_metrics.json'), 'utf8'));
    expect(onDisk.per_agent).toEqual(doc.per_agent);
    expect(onDisk.seq).toBe(1);
  });

  it('serves one age_seconds, its own, when a client posts back a document it read', async () => {
    // A posted copy used to be stored and served beside the computed one: a duplicate key that
    // JSON parsers resolve to the last, frozen value.
    const read = (await get('/meta/metrics')).json();
    expect((await post('/meta/metrics', { ...read, age_seconds: 0, mode: 'LIVE_MODE' })).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const served = (await get('/meta/metrics')).body;
    expect(served.match(/"age_seconds"/g)).toHaveLength(1);
    expect(JSON.parse(served)).toMatchObject({ mode: 'LIVE_MODE', age_seconds: expect.any(Number) });
    expect(JSON.parse(served).age_seconds).toBeGreaterThan(0);
    const onDisk = JSON.parse(readFileSync(join(root, 'state', 'meta_metrics.json'), 'utf8'));
    expect(onDisk).not.toHaveProperty('age_seconds');
  });

  it('answers If-None-Match with 304 until the document changes', async () => {
    const first = await get('/meta/metrics');
    const etag = first.headers.etag as string;
    expect(etag).toBeTruthy();
    const notModified = await get('/meta/metrics', { 'if-none-match': etag });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.headers.etag).toBe(etag);
    // No content, so no Content-Type; and a Content-Length other than the 200's would be wrong (RFC 9110, 8.6).
    expect(notModified.headers).not.toHaveProperty('content-type');
    expect(notModified.headers).not.toHaveProperty('content-length');
    expect(notModified.body).toBe('');
    await post('/meta/metrics', fixtureWith(2));
    const after = await get('/meta/metrics', { 'if-none-match': etag });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
  });

  it('compares If-None-Match as HTTP does: weakly, in a list, or *', async () => {
    const etag = (await get('/meta/metrics')).headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    const strong = etag.slice(2);
    for (const header of [strong, `"other", ${etag}`, ` ${strong} , "other"`, '*']) {
      expect([header, (await get('/meta/metrics', { 'if-none-match': header })).statusCode]).toEqual([header, 304]);
    }
    expect((await get('/meta/metrics', { 'if-none-match': '"other", W/"another"' })).statusCode).toBe(200);
  });

  it('merges a partial (stress runner) document and keeps per_agent and guardian', async () => {
    await post('/meta/metrics', fixtureWith(3));
    const res = await post('/meta/metrics', { stress_last: { scenario: 'flash_crash', passed: true }, stress_timestamp: '2026-11-21T15:00:00Z' });
    expect(res.statusCode).toBe(200);
    const body = (await get('/meta/metrics')).json();
    expect(body.per_agent).toEqual(fixtureWith(3).per_agent);
    expect(body.guardian).toEqual(FIXTURE.guardian);
    expect(body.stress_last).toEqual({ scenario: 'flash_crash', passed: true });
  });

  it('replaces the whole document when the new one has per_agent', async () => {
    await post('/meta/metrics', { stress_last: { x: 1 } });
    await post('/meta/metrics', { per_agent: { Solo: { pnl_7d: 1, sharpe_30d: 1, winrate_30d: 0.5, max_dd_30d: 2 } } });
    const body = (await get('/meta/metrics')).json();
    expect(Object.keys(body.per_agent)).toEqual(['Solo']);
    expect(body.stress_last).toBeUndefined();
  });

  it.each([
    ['per_agent null (crashed the old server)', { per_agent: null }],
    ['per_agent an array', { per_agent: [] }],
    ['a per-agent number as string', { per_agent: { A: { pnl_7d: '12' } } }],
    ['a per-agent number null', { per_agent: { A: { sharpe_30d: null } } }],
    ['a per-agent number overflowing to Infinity', '{"per_agent":{"A":{"pnl_7d":1e999}}}'],
    ['guardian without is_paused', { guardian: { drawdown: 1 } }],
    ['guardian.is_paused as string', { guardian: { is_paused: 'true' } }],
    ['market_regime a string', { market_regime: 'BULL' }],
    ['risk_multiplier a string', { market_regime: { risk_multiplier: 'high' } }],
    ['summary a number', { summary: 3 }],
    ['breakers a list', { breakers: ['OPEN'] }],
  ])('rejects %s with 400 and changes nothing', async (_name, doc) => {
    await post('/meta/metrics', fixtureWith(4));
    const before = (await get('/meta/metrics')).json();
    const res = await post('/meta/metrics', doc);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: expect.any(String), code: 400 });
    const after = (await get('/meta/metrics')).json();
    expect({ ...after, age_seconds: 0 }).toEqual({ ...before, age_seconds: 0 });
  });

  it.each([
    ['malformed JSON', 400, '{"per_agent": {', { 'content-type': 'application/json' }],
    ['an empty body', 400, '', { 'content-type': 'application/json' }],
    ['a bare array', 400, '[1,2]', { 'content-type': 'application/json' }],
    ['a bare string', 400, '"x"', { 'content-type': 'application/json' }],
    ['null', 400, 'null', { 'content-type': 'application/json' }],
    ['text/plain', 415, '{}', { 'content-type': 'text/plain' }],
    ['a form body', 415, 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['no content type', 415, '{}', {}],
  ])('POST /meta/metrics with %s is a %i in the error shape', async (_name, status, payload, headers) => {
    const res = await app.inject({ method: 'POST', url: '/meta/metrics', payload, headers });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual(expect.objectContaining({ error: expect.any(String), code: status }));
  });

  it('answers a body over the limit with 413', async () => {
    const small = await createTestApp({ NEOLIGHT_ROOT: tempRoot(), BODY_LIMIT_BYTES: '2048' });
    try {
      const res = await small.inject({ method: 'POST', url: '/meta/metrics', payload: JSON.stringify({ pad: 'x'.repeat(4096) }), headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual({ error: expect.any(String), code: 413 });
    } finally {
      await small.close();
    }
  });

  it('routes case-insensitively and tolerates a trailing slash', async () => {
    expect((await get('/META/Metrics/')).statusCode).toBe(200);
    expect((await get('/Health/')).json().status).toBe('ok');
    expect((await post('/Atlas/Update/', { brain: 'b', allocations: {} })).statusCode).toBe(200);
  });

  it('answers HEAD on every GET route', async () => {
    for (const url of ['/', '/health', '/status', '/meta/metrics', '/meta/performance', '/meta/regime', '/governor/allocations', '/atlas/state']) {
      const res = await app.inject({ method: 'HEAD', url });
      expect([url, res.statusCode]).toEqual([url, 200]);
      expect(res.body).toBe('');
    }
  });

  it('answers a CORS preflight with 204', async () => {
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/meta/metrics',
      headers: { origin: 'http://dashboard.local', 'access-control-request-method': 'POST' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://dashboard.local');
  });

  it('gives 404 for unknown paths and 405 for a known path with the wrong method', async () => {
    const missing = await get('/foo');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'Cannot GET /foo', code: 404 });
    const wrong = await app.inject({ method: 'DELETE', url: '/meta/metrics' });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.json()).toEqual({ error: expect.any(String), code: 405 });
    expect(wrong.headers.allow).toContain('POST');
    const wrongPost = await post('/health', {});
    expect(wrongPost.statusCode).toBe(405);
    // The router ignores repeated slashes, so //meta/metrics is the same known path: 405, not 404.
    const doubled = await app.inject({ method: 'DELETE', url: '//meta//metrics/' });
    expect([doubled.statusCode, doubled.headers.allow]).toEqual([405, expect.stringContaining('POST')]);
  });

  it('answers 404 and 405 before reading the body, whatever the body holds', async () => {
    const send = (method: 'PUT' | 'PATCH' | 'POST' | 'DELETE', url: string, payload: string) =>
      app.inject({ method, url, payload, headers: { 'content-type': 'application/json' } });
    expect((await send('PUT', '/zzz', '{bad')).json()).toEqual({ error: 'Cannot PUT /zzz', code: 404 });
    expect((await send('PATCH', '/atlas/update', '{bad')).json()).toEqual({ error: expect.stringContaining('not allowed'), code: 405 });
    expect((await send('DELETE', '/health', '{bad')).statusCode).toBe(405);
    const small = await createTestApp({ NEOLIGHT_ROOT: tempRoot(), BODY_LIMIT_BYTES: '2048' });
    try {
      const big = JSON.stringify({ pad: 'x'.repeat(4096) });
      const headers = { 'content-type': 'application/json' };
      expect((await small.inject({ method: 'POST', url: '/nothere', payload: big, headers })).statusCode).toBe(404);
      expect((await small.inject({ method: 'POST', url: '/health', payload: big, headers })).statusCode).toBe(405);
    } finally {
      await small.close();
    }
  });

  it('refuses with 413 the partial document that would grow meta-metrics past DOCUMENT_MAX_BYTES, and keeps serving', async () => {
    const small = await createTestApp({ NEOLIGHT_ROOT: tempRoot(), BODY_LIMIT_BYTES: '16384', DOCUMENT_MAX_BYTES: '20000' });
    const send = (doc: unknown) =>
      small.inject({ method: 'POST', url: '/meta/metrics', payload: JSON.stringify(doc), headers: { 'content-type': 'application/json' } });
    try {
      expect((await send({ note_1: 'x'.repeat(6000) })).statusCode).toBe(200);
      expect((await send({ note_2: 'x'.repeat(6000) })).statusCode).toBe(200);
      const refused = await send({ note_3: 'x'.repeat(9000) });
      expect(refused.json()).toEqual({ error: expect.stringContaining('DOCUMENT_MAX_BYTES'), code: 413 });
      const served = (await small.inject('/meta/metrics')).json();
      expect(Object.keys(served)).toEqual(expect.arrayContaining(['note_1', 'note_2']));
      expect(served).not.toHaveProperty('note_3');
      expect((await send(FIXTURE)).statusCode).toBe(200); // a whole document replaces the grown one
    } finally {
      await small.close();
    }
  });

  it('keeps at most 64 atlas types, names inherited from Object included', async () => {
    const fresh = await createTestApp({ NEOLIGHT_ROOT: tempRoot() });
    const update = (type: string) =>
      fresh.inject({ method: 'POST', url: '/atlas/update', payload: JSON.stringify({ type }), headers: { 'content-type': 'application/json' } });
    try {
      for (let i = 0; i < 64; i++) expect((await update(`type-${i}`)).statusCode).toBe(200);
      for (const type of ['type-64', 'valueOf', 'constructor', 'toString', '__proto__']) {
        expect([type, (await update(type)).json()]).toEqual([type, { error: expect.stringContaining('too many distinct atlas update types'), code: 400 }]);
      }
      expect((await update('type-0')).statusCode).toBe(200);
      expect(Object.keys((await fresh.inject('/atlas/state')).json().latest)).toHaveLength(64);
    } finally {
      await fresh.close();
    }
  });

  it('keeps atlas updates in their own store, latest per type, and out of /meta/metrics', async () => {
    await post('/meta/metrics', fixtureWith(5));
    const before = (await get('/meta/metrics')).json();
    expect((await post('/atlas/update', { brain: { v: 1 }, allocations: { A: 0.5 }, timestamp: 't1' })).statusCode).toBe(200);
    expect((await post('/atlas/update', { type: 'trade', symbol: 'BTC', side: 'buy' })).statusCode).toBe(200);
    expect((await post('/atlas/update', { type: 'trade', symbol: 'ETH', side: 'sell' })).statusCode).toBe(200);
    expect((await post('/atlas/update', { type: 'guardian_pause', reason: 'drawdown' })).statusCode).toBe(200);
    const state = (await get('/atlas/state')).json();
    expect(state.latest.bridge.payload).toEqual({ brain: { v: 1 }, allocations: { A: 0.5 }, timestamp: 't1' });
    expect(state.latest.trade.payload.symbol).toBe('ETH');
    expect(state.latest.guardian_pause.payload.reason).toBe('drawdown');
    const after = (await get('/meta/metrics')).json();
    expect({ ...after, age_seconds: 0 }).toEqual({ ...before, age_seconds: 0 });
    const onDisk = JSON.parse(readFileSync(join(root, 'state', 'atlas_state.json'), 'utf8'));
    expect(onDisk.latest.trade.payload.symbol).toBe('ETH');
  });

  it('rejects atlas updates that are not objects or carry a bad type', async () => {
    for (const payload of ['[1]', '"x"', '{"type": 5}', '{"type": ""}', `{"type": "${'t'.repeat(65)}"}`]) {
      const res = await post('/atlas/update', payload);
      expect([payload, res.statusCode]).toEqual([payload, 400]);
      expect(res.json().code).toBe(400);
    }
  });

  it('never leaves temp files behind in state/', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => post('/meta/metrics', fixtureWith(100 + i))));
    expect(readdirSync(join(root, 'state')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('echoes x-request-id, or makes one up', async () => {
    expect((await get('/health', { 'x-request-id': 'abc-123' })).headers['x-request-id']).toBe('abc-123');
    expect((await get('/health')).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
