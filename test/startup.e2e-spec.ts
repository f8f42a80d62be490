import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer, tempRoot, type RunningServer } from './support/server.js';

/** Sizes of the files under `dir`. */
function fileSizes(dir: string): number[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => statSync(join(dir, name)))
    .filter((stats) => stats.isFile())
    .map((stats) => stats.size);
}

/** Resolves with the first whole line `server` wrote to `stream` that matches `pattern`, or rejects with what it wrote after `timeoutMs`. */
async function outputLine(server: RunningServer, stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = 5000): Promise<string> {
  const lines = () => (stream === 'stdout' ? server.lines : server.stderr.join('').split('\n').slice(0, -1));
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
    const line = lines().find((l) => pattern.test(l));
    if (line !== undefined) return line;
  }
  throw new Error(`no ${stream} line matching ${pattern} in ${timeoutMs} ms:\n${lines().join('\n')}`);
}

/**
 * What the start-up of the built service (`dist/main.js` and its bundle) does and does not do:
 * work it never needs stays out of every start (README, "Benchmarks").
 */
describe('start-up of the built service', () => {
  const cleanUp: string[] = [];
  afterAll(() => cleanUp.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('writes Node’s compile cache once it listens, and the next start after a SIGKILL uses it', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'neolight-compile-cache-'));
    const root = tempRoot();
    cleanUp.push(cache, root);
    const first = await startServer({ NEOLIGHT_ROOT: root, NODE_COMPILE_CACHE: cache });
    await first.kill('SIGKILL');
    // The bundle's entry is most of a megabyte; without the flush after listen, nothing is written.
    expect(fileSizes(cache).some((size) => size > 100_000)).toBe(true);

    const second = await startServer({ NEOLIGHT_ROOT: root, NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
    try {
      // Node's own debug output for the bundle: "V8 code cache for ESM file:///.../server.mjs was accepted".
      await expect(outputLine(second, 'stderr', /code cache for ESM \S+\/bundle\/server\.mjs was accepted/)).resolves.toContain('accepted');
    } finally {
      await second.kill('SIGKILL');
    }
  });

  it('gives back the young generation start-up grew, shortly after it listens, and keeps serving', async () => {
    const root = tempRoot();
    cleanUp.push(root);
    const server = await startServer({ NEOLIGHT_ROOT: root, LOG_LEVEL: 'debug' });
    try {
      const line = await outputLine(server, 'stdout', /"released start-up memory"/);
      const { youngGenerationMb } = JSON.parse(line) as { youngGenerationMb: { before: number; after: number } };
      // Start-up grows it to several MB; V8 keeps that much without the collection (README, "Benchmarks").
      expect(youngGenerationMb.before).toBeGreaterThan(2);
      expect(youngGenerationMb.after).toBeLessThan(1);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.kill('SIGKILL');
    }
  });

  it('does not collect during a shutdown that begins before it would', async () => {
    const root = tempRoot();
    cleanUp.push(root);
    // A linger longer than the settle time: the collection would fall inside the drain unless cancelled.
    const server = await startServer({ NEOLIGHT_ROOT: root, LOG_LEVEL: 'debug', SHUTDOWN_LINGER_MS: '1500' });
    await expect(server.kill('SIGTERM')).resolves.toBe(0);
    expect(server.lines.some((l) => l.includes('stopped cleanly'))).toBe(true);
    expect(server.lines.filter((l) => l.includes('start-up memory'))).toEqual([]);
  });

  it('loads neither undici, Web Crypto nor libphonenumber-js, and builds no Intl.DateTimeFormat, to start', async () => {
    // Loaded before the service: counts DateTimeFormat constructions and, on SIGUSR2, reports them
    // with what Node has loaded: `process.moduleLoadList` (built-ins; undocumented but long-standing)
    // and the CommonJS cache (which the bundle's `require` shares).
    const probeDir = mkdtempSync(join(tmpdir(), 'neolight-probe-'));
    const root = tempRoot();
    cleanUp.push(probeDir, root);
    const probe = join(probeDir, 'probe.mjs');
    writeFileSync(
      probe,
      `import { createRequire } from 'node:module';
let built = 0;
const Real = Intl.DateTimeFormat;
Intl.DateTimeFormat = new Proxy(Real, {
  construct: (target, args, newTarget) => (built++, Reflect.construct(target, args, newTarget)),
  apply: (target, self, args) => (built++, Reflect.apply(target, self, args)),
});
process.on('SIGUSR2', () => {
  const builtins = process.moduleLoadList;
  const modules = Object.keys(createRequire(import.meta.url).cache);
  const report = {
    built,
    undici: builtins.includes('NativeModule internal/deps/undici/undici'),
    webCrypto: builtins.includes('NativeModule internal/crypto/webcrypto'),
    libphonenumber: modules.some((path) => path.includes('libphonenumber-js')),
    http: builtins.includes('NativeModule http'),
    validatorAlpha: modules.some((path) => /validator[\\\\/]lib[\\\\/]alpha\\.js$/.test(path)),
  };
  process.stderr.write('PROBE ' + JSON.stringify(report) + '\\n');
});
`,
    );
    const server = await startServer({ NEOLIGHT_ROOT: root, NODE_OPTIONS: `--import=${pathToFileURL(probe).href}` });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      server.process.kill('SIGUSR2');
      const line = await outputLine(server, 'stderr', /^PROBE \{.*\}$/);
      // `http` and `validatorAlpha` show that the lists are what they are taken to be: the service
      // serves over node:http, and loads validator.js's alpha.js from node_modules (not the bundle).
      expect(JSON.parse(line.slice('PROBE '.length))).toEqual({
        built: 0,
        undici: false,
        webCrypto: false,
        libphonenumber: false,
        http: true,
        validatorAlpha: true,
      });
    } finally {
      await server.kill('SIGKILL');
    }
  });
});
