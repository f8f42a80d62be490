import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer, tempRoot } from './support/server.js';

/** Every file under `dir`, with its size. */
function filesUnder(dir: string): { path: string; size: number }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, size: statSync(path).size }));
}

/**
 * What the start-up of the built service (`dist/main.js` and its bundle) does and does not do:
 * work it never needs stays out of every start (README, "Benchmarks").
 */
describe('start-up of the built service', () => {
  it('writes Node’s compile cache once it listens, so a start after a SIGKILL is not cold', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'neolight-compile-cache-'));
    const server = await startServer({ NEOLIGHT_ROOT: tempRoot(), NODE_COMPILE_CACHE: cache });
    await server.kill('SIGKILL');
    // The bundle's cache entry is most of a megabyte; without the flush after listen, nothing is written.
    expect(filesUnder(cache).some((file) => file.size > 100_000)).toBe(true);
  });

  it('neither loads undici nor builds an Intl.DateTimeFormat (ICU locale data) to start', async () => {
    // Loaded before the service: counts DateTimeFormat constructions and, on SIGUSR2, reports them
    // with whether Node has loaded its bundled undici.
    const probe = join(mkdtempSync(join(tmpdir(), 'neolight-probe-')), 'probe.mjs');
    writeFileSync(
      probe,
      `let built = 0;
const Real = Intl.DateTimeFormat;
Intl.DateTimeFormat = new Proxy(Real, {
  construct: (target, args, newTarget) => (built++, Reflect.construct(target, args, newTarget)),
  apply: (target, self, args) => (built++, Reflect.apply(target, self, args)),
});
process.on('SIGUSR2', () => {
  const loaded = process.moduleLoadList;
  process.stderr.write('PROBE ' + JSON.stringify({ built, undici: loaded.some((m) => m.includes('undici')), http: loaded.some((m) => /\\bhttp$/.test(m)) }) + '\\n');
});
`,
    );
    const server = await startServer({ NEOLIGHT_ROOT: tempRoot(), NODE_OPTIONS: `--import=${pathToFileURL(probe).href}` });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      server.process.kill('SIGUSR2');
      const deadline = Date.now() + 5000;
      while (!server.stderr.join('').includes('PROBE ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const report = JSON.parse(/PROBE (.*)/.exec(server.stderr.join(''))![1]) as { built: number; undici: boolean; http: boolean };
      // `http` shows that the load list is what it is taken to be: the service serves over node:http.
      expect(report).toEqual({ built: 0, undici: false, http: true });
    } finally {
      await server.kill('SIGKILL');
    }
  });
});
