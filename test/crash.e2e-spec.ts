import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureWith } from './support/app.js';
import { getJson, postJson, startServer, tempRoot } from './support/server.js';

const ROUNDS = 4;
/** Every round runs with the writes on the thread pool (the default), and again inline. */
const CASES = (['threadpool', 'inline'] as const).flatMap((writes) => Array.from({ length: ROUNDS }, (_, i) => [writes, i + 1] as const));
const WRITERS = 4;

/**
 * Crash test: writers post numbered documents as fast as they can, the server is SIGKILLed at a
 * random moment, restarted on the same root: what is on disk is at least as new as the newest
 * acknowledged document of every writer, parses, and no temp file remains.
 */
describe('SIGKILL at a random moment loses nothing acknowledged', () => {
  it.each(CASES)('%s writes, round %i', async (writes) => {
    const root = tempRoot('neolight-crash-');
    const env = { NEOLIGHT_ROOT: root, STATE_WRITES: writes };
    let server = await startServer(env);
    expect(server.lines.find((line) => line.includes('listening on'))).toContain(`"writes":"${writes}"`);
    const acked = new Array<number>(WRITERS + 1).fill(0);
    let running = true;

    const atlasWriter = async (w: number) => {
      for (let seq = 1; running; seq++) {
        try {
          const res = await postJson(`${server.url}/atlas/update`, { type: `w${w}`, seq }, 5000);
          if (res.status === 200) acked[w] = seq;
        } catch {
          return; // the server is gone
        }
      }
    };
    const metaWriter = async () => {
      for (let seq = 1; running; seq++) {
        try {
          const res = await postJson(`${server.url}/meta/metrics`, fixtureWith(seq), 5000);
          if (res.status === 200) acked[WRITERS] = seq;
        } catch {
          return;
        }
      }
    };

    const writers = [...Array.from({ length: WRITERS }, (_, w) => atlasWriter(w)), metaWriter()];
    // every writer under way (bounded), then a random moment
    for (let waited = 0; !acked.every((n) => n > 0) && waited < 10000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(acked.every((n) => n > 0)).toBe(true);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 600)));
    await server.kill('SIGKILL');
    running = false;
    await Promise.all(writers);

    // What the disk holds right after the crash: complete JSON, never a torn file.
    const metaOnDisk = JSON.parse(readFileSync(join(root, 'state', 'meta_metrics.json'), 'utf8'));
    expect(metaOnDisk.seq).toBeGreaterThanOrEqual(acked[WRITERS]);

    server = await startServer(env);
    try {
      const atlas = (await getJson(`${server.url}/atlas/state`)).body;
      for (let w = 0; w < WRITERS; w++) expect([w, atlas.latest[`w${w}`].payload.seq >= acked[w]]).toEqual([w, true]);
      const meta = (await getJson(`${server.url}/meta/metrics`)).body;
      expect(meta.seq).toBeGreaterThanOrEqual(acked[WRITERS]);
      expect(readdirSync(join(root, 'state')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    } finally {
      await server.kill('SIGKILL');
    }
  });
});
