// npm run bench: the built service, a raw-Fastify reference and the Nest floor (Nest on the same
// Fastify with nothing of the service's: bench/nest-floor-server.mjs) side by side, on loopback,
// with autocannon. Bounded: BENCH_SECONDS per scenario and server (default 10), run as BENCH_ROUNDS
// (default 5) alternating slices, service, floor, reference, so that a machine whose speed drifts
// (a shared VM: the reference alone has moved by 2x within minutes) slows all three alike. It ends
// with issue 6's targets, each with what was measured and whether it was met.
// BENCH_LEAK_REQUESTS (default 0, e.g. 2000000) adds a long GET run in four parts, with RSS after
// each: RSS rises to a plateau first (V8 and malloc grow to their working size), so a leak shows as
// growth in the later parts, not as the difference between before and after.
// STATE_WRITES (threadpool or inline) is passed to the service. Each scenario starts with
// BENCH_WARMUP_SECONDS (default 3) of unmeasured load on each server, so that the first slice does
// not report the JIT compiling the route and the first collections (its p99 was 3-6x the later
// slices' without it, and still 3x after 1 s).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const FIXTURE = here('../test/fixtures/meta_metrics.json');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const LEAK_REQUESTS = Number(process.env.BENCH_LEAK_REQUESTS ?? 0);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const STATE_WRITES = process.env.STATE_WRITES ?? 'threadpool';
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);

/** A free loopback port, so the service can log to a file rather than to a pipe we must drain. */
function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// However the bench ends (done, a server that never answers, SIGTERM or Ctrl-C), no server outlives it.
const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(1));

/** Starts `args` with its output in `logFile` (a pipe read by this process would steal the load generator's CPU). */
async function start(args, env, logFile) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const out = openSync(logFile, 'a');
  // TMPDIR: the servers keep Node's compile cache under the same temporary directory as this process.
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, TMPDIR: tmpdir(), PORT: String(port), ...env }, stdio: ['ignore', out, 'inherit'] });
  children.push(child);
  return { child, port, t0 };
}

/**
 * Time to the first 200 on /health, then `prepare()`, then RSS once start-up memory is given back
 * (the service and the floor both do it 500 ms after listening).
 */
async function started(server, prepare = async () => {}) {
  const startupMs = await firstOk(server);
  await prepare();
  await new Promise((r) => setTimeout(r, 1000));
  return { startupMs, idleRss: rssMb(server.child.pid) };
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
/** CPU time a process has used (user + system, all threads), in µs: /proc counts in 100ths of a second (USER_HZ). */
const cpuUs = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};

const START_TIMEOUT_MS = 30_000;

/** Milliseconds from spawning `server` to its first 200 on /health; throws if it exits or takes over 30 s. */
async function firstOk(server) {
  const url = `http://127.0.0.1:${server.port}/health`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).status === 200) return Number(process.hrtime.bigint() - server.t0) / 1e6;
    } catch {
      // not listening yet, or not answering
    }
    if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`${server.child.spawnargs.join(' ')} exited before answering`);
    if (Date.now() > deadline) throw new Error(`${url}: no 200 within ${START_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** One slice of load on `pid`'s server; the result also carries the CPU the server used meanwhile. */
async function cannon(pid, opts) {
  const cpuBefore = cpuUs(pid);
  const result = await new Promise((resolve, reject) => {
    const run = autocannon({ connections: CONNECTIONS, pipelining: 1, duration: SECONDS / ROUNDS, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
    autocannon.track(run, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
  return { ...result, cpuUs: cpuUs(pid) - cpuBefore };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The slices of one server taken together: rates over the total time, the median p50 and the worst p99. */
const summary = (slices) => {
  const duration = slices.reduce((t, r) => t + r.duration, 0);
  return {
    requests_per_s: Math.round(slices.reduce((t, r) => t + r.requests.total, 0) / duration),
    ok_per_s: Math.round(slices.reduce((t, r) => t + r['2xx'], 0) / duration),
    non_2xx: slices.reduce((t, r) => t + r.non2xx, 0),
    errors: slices.reduce((t, r) => t + r.errors + r.timeouts, 0),
    p50_ms: median(slices.map((r) => r.latency.p50)),
    p99_ms: Math.max(...slices.map((r) => r.latency.p99)),
    slices_ok_per_s: slices.map((r) => Math.round(r['2xx'] / r.duration)),
    slices_p99_ms: slices.map((r) => r.latency.p99),
    // Less sensitive than req/s to a machine whose speed drifts (10 ms resolution per slice).
    cpu_us_per_request: Math.round(slices.reduce((t, r) => t + r.cpuUs, 0) / slices.reduce((t, r) => t + r.requests.total, 0)),
  };
};

/** Issue 6's targets against this run: one line each, with what was measured and whether it was met. */
function targets(report) {
  const by = (name) => report.results.find((r) => r.name === name);
  const meta = by('GET /meta/metrics');
  const post = by('POST /meta/metrics (durable)');
  const lines = [
    ['GET /meta/metrics ≥ 0.6× the reference', meta.ratio >= 0.6, `${meta.ratio}× (Nest floor ${meta.floor_ratio}×)`],
    ['GET /meta/metrics p99 < 5 ms', meta.service.p99_ms < 5, `${meta.service.p99_ms} ms (Nest floor ${meta.floor.p99_ms} ms)`],
    ...['GET /health', 'GET /status'].map((name) => [`${name} ≥ 0.6× the reference`, by(name).ratio >= 0.6, `${by(name).ratio}× (Nest floor ${by(name).floor_ratio}×)`]),
    ['durable POST /meta/metrics ≥ 8,000 documents/s', post.service.ok_per_s >= 8000, `${post.service.ok_per_s}/s (Nest floor, not durable: ${post.floor.ok_per_s}/s)`],
    ['start to first 200 < 500 ms', report.startup_to_first_200_ms < 500, `${report.startup_to_first_200_ms} ms (Nest floor ${report.floor.startup_to_first_200_ms} ms)`],
    ['idle RSS < 80 MB', report.idle_rss_mb < 80, `${report.idle_rss_mb} MB (Nest floor ${report.floor.idle_rss_mb} MB)`],
  ];
  if (report.leak) lines.push(['no RSS growth over the leak run\'s second half', report.leak.second_half_growth_mb <= 0, `${report.leak.second_half_growth_mb} MB`]);
  return lines.map(([target, met, measured]) => `- ${met ? 'met' : 'NOT met'}: ${target}: ${measured}`);
}

const FLOOR_BUNDLE = here('../dist/bundle/nest-floor.mjs');
if (!existsSync(FLOOR_BUNDLE)) throw new Error(`${FLOOR_BUNDLE} is missing: run the bench with \`npm run bench\`, which builds it`);
const root = mkdtempSync(join(tmpdir(), 'neolight-bench-'));
const body = readFileSync(FIXTURE, 'utf8');
// The same V8 flag as `npm run start:prod` (a 16 MB young generation: README, "Benchmarks").
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=16').split(' ').filter(Boolean);
const service = await start([...NODE_FLAGS, here('../dist/main.js')], {
  NEOLIGHT_ROOT: root,
  HOST: '127.0.0.1',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  ...(process.env.BENCH_LOG_PATH ? { LOG_PATH: process.env.BENCH_LOG_PATH } : {}),
  STATE_WRITES,
}, join(root, 'service.log'));
const serviceStart = await started(service, () =>
  fetch(`http://127.0.0.1:${service.port}/meta/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
);
const served = await (await fetch(`http://127.0.0.1:${service.port}/meta/metrics`)).text();
const refFile = join(root, 'reference-doc.json');
writeFileSync(refFile, served);
const reference = await start([here('./reference-server.mjs'), refFile], {}, join(root, 'reference.log'));
await firstOk(reference);
// Node's compile cache where the service's main.js keeps it (module.enableCompileCache()'s default).
const floorEnv = { NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache') };
const floor = await start([...NODE_FLAGS, FLOOR_BUNDLE, refFile], floorEnv, join(root, 'floor.log'));
const floorStart = await started(floor);

const scenarios = [
  { name: 'GET /meta/metrics', path: '/meta/metrics' },
  { name: 'GET /health', path: '/health' },
  { name: 'GET /status', path: '/status' },
  { name: 'POST /meta/metrics (durable)', path: '/meta/metrics', method: 'POST', body, headers: { 'content-type': 'application/json' } },
];
const results = [];
for (const s of scenarios) {
  const { name, path, ...rest } = s;
  const load = (server, extra = {}) => cannon(server.child.pid, { url: `http://127.0.0.1:${server.port}${path}`, ...rest, ...extra });
  const svcSlices = [];
  const floorSlices = [];
  const refSlices = [];
  if (WARMUP_SECONDS > 0) {
    for (const server of [service, floor, reference]) await load(server, { duration: WARMUP_SECONDS });
  }
  for (let round = 0; round < ROUNDS; round++) {
    svcSlices.push(await load(service));
    floorSlices.push(await load(floor));
    refSlices.push(await load(reference));
  }
  const svc = summary(svcSlices);
  const nest = summary(floorSlices);
  const ref = summary(refSlices);
  const ratio = (x) => +(x.ok_per_s / ref.ok_per_s).toFixed(2);
  results.push({ name, service: svc, floor: nest, reference: ref, ratio: ratio(svc), floor_ratio: ratio(nest) });
  console.error(`${name}: ${svc.ok_per_s} ok/s (p99 ${svc.p99_ms} ms), Nest floor ${nest.ok_per_s}/s, reference ${ref.ok_per_s}/s`);
}
let leak;
if (LEAK_REQUESTS > 0) {
  const before = rssMb(service.child.pid);
  const afterParts = [];
  // autocannon stops after `amount` requests when it is set, whatever the duration.
  const quarter = { url: `http://127.0.0.1:${service.port}/meta/metrics`, amount: Math.ceil(LEAK_REQUESTS / 4) };
  for (let part = 0; part < 4; part++) {
    await cannon(service.child.pid, quarter);
    await new Promise((r) => setTimeout(r, 1000));
    afterParts.push(+rssMb(service.child.pid).toFixed(1));
  }
  leak = {
    requests: LEAK_REQUESTS,
    rss_before_mb: +before.toFixed(1),
    rss_after_each_quarter_mb: afterParts,
    rss_after_mb: afterParts[3],
    second_half_growth_mb: +(afterParts[3] - afterParts[1]).toFixed(1),
  };
}
const afterRss = rssMb(service.child.pid);

const report = {
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version },
  settings: { seconds: SECONDS, rounds: ROUNDS, warmup_seconds: WARMUP_SECONDS, connections: CONNECTIONS, fixture_bytes: Buffer.byteLength(body), log_level: process.env.LOG_LEVEL ?? 'info', node_flags: NODE_FLAGS, state_writes: STATE_WRITES },
  startup_to_first_200_ms: +serviceStart.startupMs.toFixed(1),
  idle_rss_mb: +serviceStart.idleRss.toFixed(1),
  rss_after_run_mb: +afterRss.toFixed(1),
  floor: { startup_to_first_200_ms: +floorStart.startupMs.toFixed(1), idle_rss_mb: +floorStart.idleRss.toFixed(1) },
  leak,
  results,
  date: new Date().toISOString(),
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/latest.json'), JSON.stringify(report, null, 2));

const row = (r) =>
  `| ${r.name} | ${r.service.ok_per_s} | ${r.service.p50_ms} | ${r.service.p99_ms} | ${r.service.non_2xx} | ${r.reference.ok_per_s} | ${r.ratio} | ${r.floor.ok_per_s} (${r.floor_ratio}) | ${r.service.cpu_us_per_request} / ${r.floor.cpu_us_per_request} / ${r.reference.cpu_us_per_request} |`;
console.log(
  '\n| scenario | service ok req/s | p50 ms | p99 ms | non-2xx | raw Fastify req/s | ratio | Nest floor req/s (ratio) | CPU µs/req: service / floor / reference |\n' +
    `|---|---|---|---|---|---|---|---|---|\n${results.map(row).join('\n')}\n`,
);
console.log(`state writes: ${STATE_WRITES}`);
console.log(`start to first 200 on /health: ${report.startup_to_first_200_ms} ms; idle RSS ${report.idle_rss_mb} MB; RSS after run ${report.rss_after_run_mb} MB`);
console.log(`Nest floor: start to first 200 ${report.floor.startup_to_first_200_ms} ms; idle RSS ${report.floor.idle_rss_mb} MB`);
console.log(`\nissue 6's targets:\n${targets(report).join('\n')}`);
if (leak) {
  const steps = [leak.rss_before_mb, ...leak.rss_after_each_quarter_mb].join(' → ');
  console.log(`leak check: ${leak.requests} requests in four parts, RSS ${steps} MB; growth over the second half ${leak.second_half_growth_mb} MB`);
}
console.log(`machine: ${report.machine.cpus} cores (${report.machine.cpu_model}), ${report.machine.memory_gb} GB, Node ${report.machine.node}; JSON: bench/results/latest.json`);
process.exit(0); // the exit handler stops the servers
