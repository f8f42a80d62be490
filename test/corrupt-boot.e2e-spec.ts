import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IngestQueue } from '../src/telemetry/ingest.queue.js';
import { createTestApp, FIXTURE } from './support/app.js';
import { tempRoot } from './support/server.js';

const FULL = JSON.stringify({ ...FIXTURE, cache_timestamp: '2026-11-21T14:30:01.000Z' });

/**
 * Boot recovery: a state file truncated at several offsets, one of garbage bytes, one that parses
 * but breaks the rules: the service boots, moves the file aside (kept as *.corrupt-<timestamp>),
 * counts it, and serves the default document. Leftover temp files are removed.
 */
describe('boot recovery from a damaged state file', () => {
  const cases: [string, Buffer][] = [
    ...[1, 100, Math.floor(FULL.length / 2), FULL.length - 1].map((n): [string, Buffer] => [`truncated at ${n} bytes`, Buffer.from(FULL.slice(0, n))]),
    ['garbage bytes', Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x80, 0x81, 0x7b])],
    ['valid JSON breaking the rules', Buffer.from('{"per_agent": null}')],
    ['a JSON array', Buffer.from('[1,2,3]')],
  ];

  it.each(cases)('boots on %s, quarantines it and serves the default', async (_name, bytes) => {
    const root = tempRoot('neolight-corrupt-');
    mkdirSync(join(root, 'state'), { recursive: true });
    writeFileSync(join(root, 'state', 'meta_metrics.json'), bytes);
    writeFileSync(join(root, 'state', 'meta_metrics.json.tmp-123-4'), 'half a write');

    const app = await createTestApp({ NEOLIGHT_ROOT: root });
    try {
      const res = await app.inject('/meta/metrics');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ per_agent: {}, stale: true, guardian: { is_paused: false } });
      expect((await app.inject('/health/ready')).statusCode).toBe(200);
      expect(app.get(IngestQueue).counters.quarantined).toBe(1);

      const files = readdirSync(join(root, 'state'));
      const aside = files.filter((f) => /^meta_metrics\.json\.corrupt-/.test(f));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(root, 'state', aside[0]))).toEqual(bytes);
      expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);

      const post = await app.inject({ method: 'POST', url: '/meta/metrics', headers: { 'content-type': 'application/json' }, payload: FULL });
      expect(post.statusCode).toBe(200);
      expect(JSON.parse(readFileSync(join(root, 'state', 'meta_metrics.json'), 'utf8')).per_agent).toEqual(FIXTURE.per_agent);
    } finally {
      await app.close();
    }
  });

  it('boots on a good state file and serves it as it was', async () => {
    const root = tempRoot('neolight-good-');
    mkdirSync(join(root, 'state'), { recursive: true });
    writeFileSync(join(root, 'state', 'meta_metrics.json'), FULL);
    const app = await createTestApp({ NEOLIGHT_ROOT: root });
    try {
      const body = (await app.inject('/meta/metrics')).json();
      expect(body.per_agent).toEqual(FIXTURE.per_agent);
      expect(body.cache_timestamp).toBe('2026-11-21T14:30:01.000Z');
      expect(body.stale).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('gives a stored document without cache_timestamp (the old server\'s file) one from its timestamp', async () => {
    const root = tempRoot('neolight-legacy-');
    mkdirSync(join(root, 'state'), { recursive: true });
    writeFileSync(join(root, 'state', 'meta_metrics.json'), JSON.stringify(FIXTURE));
    const app = await createTestApp({ NEOLIGHT_ROOT: root });
    try {
      const body = (await app.inject('/meta/metrics')).json();
      expect(body.per_agent).toEqual(FIXTURE.per_agent);
      expect(body.cache_timestamp).toBe(new Date(FIXTURE.timestamp).toISOString());
      expect(body.age_seconds).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('honours an operator pause in state/guardian_pause.json when it has no document', async () => {
    const root = tempRoot('neolight-pause-');
    mkdirSync(join(root, 'state'), { recursive: true });
    writeFileSync(join(root, 'state', 'guardian_pause.json'), JSON.stringify({ paused: true, reason: 'manual', until: null, updated_at: 't' }));
    const app = await createTestApp({ NEOLIGHT_ROOT: root });
    try {
      expect((await app.inject('/meta/metrics')).json().guardian).toEqual({ is_paused: true, drawdown: 0, reason: 'manual' });
    } finally {
      await app.close();
    }
  });
});

/**
 * Another writer leaves the state file unreadable while the service runs (a half-written file from
 * a writer that does not replace atomically): the file is moved aside and the committed document is
 * stored again, so that a restart serves it rather than the default.
 */
describe('an unreadable state file written while running', () => {
  it.each([
    ['half a document', Buffer.from(FULL.slice(0, 20))],
    ['valid JSON breaking the rules', Buffer.from('{"per_agent": null}')],
  ])('(%s) is moved aside, and the committed document is on disk again and served after a restart', async (_name, bytes) => {
    const root = tempRoot('neolight-foreign-');
    const file = join(root, 'state', 'meta_metrics.json');
    const first = await createTestApp({ NEOLIGHT_ROOT: root });
    try {
      const posted = { ...FIXTURE, guardian: { is_paused: true, drawdown: 1, reason: 'acknowledged pause' } };
      const res = await first.inject({ method: 'POST', url: '/meta/metrics', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(posted) });
      expect(res.statusCode).toBe(200);

      writeFileSync(file, bytes);
      const deadline = Date.now() + 5000;
      const restored = () => {
        try {
          return JSON.parse(readFileSync(file, 'utf8')).guardian?.reason === 'acknowledged pause';
        } catch {
          return false;
        }
      };
      while (!restored() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(restored()).toBe(true);
      const aside = readdirSync(join(root, 'state')).filter((f) => /^meta_metrics\.json\.corrupt-/.test(f));
      expect(aside.map((f) => readFileSync(join(root, 'state', f)))).toEqual([bytes]);
    } finally {
      await first.close();
    }

    const second = await createTestApp({ NEOLIGHT_ROOT: root });
    try {
      expect((await second.inject('/meta/metrics')).json()).toMatchObject({ guardian: { is_paused: true, reason: 'acknowledged pause' } });
    } finally {
      await second.close();
    }
  });

  it('writes nothing back when nothing was ever posted, so a restart still honours an operator pause', async () => {
    const root = tempRoot('neolight-foreign-default-');
    const state = join(root, 'state');
    const first = await createTestApp({ NEOLIGHT_ROOT: root });
    try {
      writeFileSync(join(state, 'meta_metrics.json'), FULL.slice(0, 20));
      const deadline = Date.now() + 5000;
      const movedAside = () => readdirSync(state).some((f) => /^meta_metrics\.json\.corrupt-/.test(f));
      while (!movedAside() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(movedAside()).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readdirSync(state)).not.toContain('meta_metrics.json');
    } finally {
      await first.close();
    }

    writeFileSync(join(state, 'guardian_pause.json'), JSON.stringify({ paused: true, reason: 'operator stop' }));
    const second = await createTestApp({ NEOLIGHT_ROOT: root });
    try {
      expect((await second.inject('/meta/metrics')).json()).toMatchObject({ stale: true, guardian: { is_paused: true, reason: 'operator stop' } });
    } finally {
      await second.close();
    }
  });
});
