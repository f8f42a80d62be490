import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import { createTestApp, FIXTURE, fixtureWith } from './support/app.js';

const WRITE_ROUTES = ['/meta/metrics', '/atlas/update'];
const READ_ROUTES = ['/', '/health', '/health/live', '/health/ready', '/health/startup', '/status', '/meta/metrics', '/meta/performance', '/meta/regime', '/governor/allocations', '/atlas/state'];
const FIXTURE_TEXT = JSON.stringify(FIXTURE);
/** Runs per property: thousands in all, sized so the file takes a few seconds on 2 shared cores. */
const RUNS = 5000;
/** A single request that takes longer than this is a failure too (a hang is not an answer). */
const RUN_TIMEOUT_MS = 5000;

const printable = (maxLength: number) => fc.string({ unit: 'binary-ascii', maxLength }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));

/** Keys that have hurt JSON consumers: prototype poisoning, and the ones our validation looks at. */
const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'per_agent', 'guardian', 'is_paused', 'type', 'market_regime', 'risk_multiplier'),
  fc.string({ maxLength: 12 }),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.double(),
    fc.integer(),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
}));
/** Almost-valid meta-metrics documents: the right keys with values of any type. */
const metaLike = fc.record(
  {
    per_agent: fc.oneof(value, fc.dictionary(fc.string({ maxLength: 8 }), fc.dictionary(fc.constantFrom('pnl_7d', 'sharpe_30d', 'winrate_30d'), value))),
    guardian: fc.oneof(value, fc.record({ is_paused: value, drawdown: value })),
    market_regime: fc.oneof(value, fc.record({ risk_multiplier: value })),
    breakers: value,
    summary: value,
    type: value,
  },
  { requiredKeys: [] },
);
/** Splices `insert` into the fixture's text at a random place. */
const spliced = (insert: fc.Arbitrary<string>) =>
  fc.tuple(fc.nat({ max: FIXTURE_TEXT.length }), insert).map(([at, text]) => FIXTURE_TEXT.slice(0, at) + text + FIXTURE_TEXT.slice(at));

const body: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.json(),
  value.map((v) => JSON.stringify(v) ?? ''),
  metaLike.map((doc) => JSON.stringify(doc)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.nat({ max: FIXTURE_TEXT.length }).map((at) => FIXTURE_TEXT.slice(0, at)),
  spliced(fc.constantFrom('1e999', '-1e999', 'NaN', 'Infinity', '"__proto__":{"polluted":1},', '{', ']', ',', '\u0000', '\\ud800', '"', '\\')),
  fc.integer({ min: 1, max: 5000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.integer({ min: 1, max: 5000 }).map((n) => `{"x":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"a":[{"__proto__":{"polluted":1}}]}'),
);
/** Mostly JSON (so that bodies reach the parser and validation), often anything else. */
const contentType = fc.option(
  fc.oneof(
    { arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'), weight: 6 },
    {
      arbitrary: fc.constantFrom(
        'application/json;charset=latin1',
        'application/vnd.api+json',
        'application/jsonx',
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        '*/*',
        '',
      ),
      weight: 1,
    },
    { arbitrary: printable(40), weight: 1 },
  ),
  { nil: undefined, freq: 10 },
);

const segment = fc.oneof(
  fc.constantFrom('meta', 'metrics', 'health', 'live', 'ready', 'startup', 'status', 'atlas', 'state', 'update', 'governor', 'allocations', 'regime', 'performance'),
  fc.constantFrom('', '.', '..', '%', '%00', '%2e%2e', '%2f', '%E0%A4%A', '%ff', '*', '~', '😀', '%F0%9F%98%80', 'a'.repeat(300)),
  fc.webSegment(),
);
const path = fc.oneof(
  fc.constantFrom(...READ_ROUTES, ...WRITE_ROUTES),
  fc.constantFrom(...READ_ROUTES).map((p) => p.toUpperCase()),
  fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
);
const url = fc.tuple(path, fc.option(fc.webQueryParameters(), { nil: undefined })).map(([p, q]) => (q === undefined ? p : `${p}?${q}`));
const readHeaders = fc.record(
  { origin: printable(30), 'if-none-match': printable(30), accept: printable(30), authorization: printable(40), 'x-request-id': printable(140) },
  { requiredKeys: [] },
);

/**
 * Property-based: thousands of random bodies and content types against every write route, and
 * random methods and paths (with queries and headers) against the read side. Every answer is a
 * 2xx, 3xx or 4xx — never a 5xx —, every 4xx is in the error shape, no request hangs, the process
 * keeps serving, and Object.prototype is never touched.
 */
describe('fuzzing every route (fast-check, inject)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp({ STATE_STORE: 'memory' });
  });
  afterAll(async () => {
    await app.close();
  });
  afterEach(async () => {
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    const valid = await app.inject({ method: 'POST', url: '/meta/metrics', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(fixtureWith(7)) });
    expect(valid.statusCode).toBe(200);
  });

  /** Fails the run (fast-check then shrinks it to a minimal example) on any answer we never give. */
  function checkAnswer(res: { statusCode: number; body: string; headers: Record<string, unknown> }, method: string): void {
    if (res.statusCode >= 500) throw new Error(`answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    if (res.statusCode >= 400 && method !== 'HEAD') {
      const answer = JSON.parse(res.body) as { error?: unknown; code?: unknown };
      if (typeof answer.error !== 'string' || answer.code !== res.statusCode) throw new Error(`not the error shape: ${res.body.slice(0, 300)}`);
    }
    if (({} as Record<string, unknown>).polluted !== undefined) throw new Error('Object.prototype was polluted');
  }

  it(`answers ${RUNS} random bodies and content types on the write routes with 2xx/4xx only`, async () => {
    // Arrange
    const write = fc.record({
      url: fc.constantFrom(...WRITE_ROUTES),
      method: fc.oneof({ arbitrary: fc.constant('POST'), weight: 9 }, { arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE'), weight: 1 }),
      contentType,
      payload: body,
    });

    // Act / Assert
    await fc.assert(
      fc.asyncProperty(write, async ({ url, method, contentType, payload }) => {
        const res = await app.inject({ method, url, payload, headers: contentType === undefined ? {} : { 'content-type': contentType } });
        checkAnswer(res, method);
      }),
      { numRuns: RUNS, timeout: RUN_TIMEOUT_MS },
    );
  });

  it(`answers ${RUNS} random methods, paths, queries and headers on the read side with 2xx/3xx/4xx only`, async () => {
    // Arrange
    const read = fc.record({
      method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT', 'PATCH', 'POST'),
      url,
      headers: readHeaders,
    });

    // Act / Assert
    await fc.assert(
      fc.asyncProperty(read, async ({ method, url, headers }) => {
        const res = await app.inject({ method, url, headers });
        checkAnswer(res, method);
      }),
      { numRuns: RUNS, timeout: RUN_TIMEOUT_MS },
    );
  });
});
