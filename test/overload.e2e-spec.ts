import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateRepository } from '../src/state/state.repository.js';
import { IngestQueue } from '../src/telemetry/ingest.queue.js';
import { createTestApp, fixtureWith } from './support/app.js';
import { tempRoot } from './support/server.js';
import { SlowStateStore } from './support/slow-store.js';

const CAPACITY = 10;

/**
 * Overload: a deliberately slowed store and 5x the queue capacity sent at once. Every answer is a
 * 200 or a 503 with Retry-After, the counts add up, the queue never exceeds its capacity, and
 * nothing acknowledged is missing.
 */
describe('back-pressure under overload', () => {
  let app: NestFastifyApplication;
  let root: string;
  let store: SlowStateStore;

  beforeAll(async () => {
    root = tempRoot('neolight-overload-');
    store = new SlowStateStore({ meta_metrics: join(root, 'state', 'meta_metrics.json'), atlas: join(root, 'state', 'atlas_state.json') }, 150);
    app = await createTestApp({ NEOLIGHT_ROOT: root, INGEST_QUEUE_CAPACITY: String(CAPACITY) }, [[StateRepository, store]]);
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 5x capacity with 200s and 503s that add up, never exceeding capacity', async () => {
    const queue = app.get(IngestQueue);
    let maxDepth = 0;
    const sampler = setInterval(() => (maxDepth = Math.max(maxDepth, queue.depth)), 1);
    const sent = CAPACITY * 5;

    const responses = await Promise.all(
      Array.from({ length: sent }, (_, i) =>
        app.inject({ method: 'POST', url: '/atlas/update', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ type: `s${i}`, seq: i }) }),
      ),
    );
    clearInterval(sampler);

    const ok = responses.filter((r) => r.statusCode === 200);
    const busy = responses.filter((r) => r.statusCode === 503);
    expect(ok.length + busy.length).toBe(sent);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const r of busy) {
      expect(r.json()).toEqual({ error: expect.any(String), code: 503 });
      expect(r.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    }
    expect(maxDepth).toBeLessThanOrEqual(CAPACITY);
    expect(queue.counters.accepted).toBe(ok.length);
    expect(queue.counters.rejected).toBe(busy.length);

    const onDisk = JSON.parse(readFileSync(join(root, 'state', 'atlas_state.json'), 'utf8'));
    responses.forEach((r, i) => {
      if (r.statusCode === 200) expect(onDisk.latest[`s${i}`]?.payload.seq).toBe(i);
      else expect(onDisk.latest[`s${i}`]).toBeUndefined();
    });
    // group commit: far fewer writes than acknowledged documents
    expect(store.saves).toBeLessThan(ok.length);
  });

  it('applies documents in arrival order even on a slow disk', async () => {
    const posts = [];
    for (let i = 0; i < CAPACITY; i++) {
      posts.push(app.inject({ method: 'POST', url: '/meta/metrics', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(fixtureWith(i)) }));
    }
    const statuses = (await Promise.all(posts)).map((r) => r.statusCode);
    expect(statuses).toEqual(new Array(CAPACITY).fill(200));
    expect((await app.inject('/meta/metrics')).json().seq).toBe(CAPACITY - 1);
    expect(JSON.parse(readFileSync(join(root, 'state', 'meta_metrics.json'), 'utf8')).seq).toBe(CAPACITY - 1);
  });
});
