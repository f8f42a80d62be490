import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StateRepository } from '../src/state/state.repository.js';
import { createTestApp, fixtureWith } from './support/app.js';
import { tempRoot } from './support/server.js';

/** Mounts a 64 KiB tmpfs at `dir`; false (with the reason logged) where mounting is refused. */
function mountTinyTmpfs(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch (error) {
    console.warn(`full-disk test skipped: cannot mount a tmpfs here (${String((error as Error).message).split('\n')[0]}); run as root to include it`);
    return false;
  }
}

/** Fills the file system holding `dir` until it refuses more bytes. */
function fill(dir: string): string {
  const filler = join(dir, 'filler.bin');
  const fd = openSync(filler, 'w');
  try {
    for (;;) writeSync(fd, Buffer.alloc(4096, 1));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return filler;
}

const root = tempRoot('neolight-disk-');
const stateDir = join(root, 'state');
mkdirSync(stateDir, { recursive: true });
const mounted = mountTinyTmpfs(stateDir);
const itWhenMounted = mounted ? it : it.skip;

/**
 * Full disk: the state directory on a 64 KiB tmpfs. A write that does not fit is refused (503 in
 * the error shape), the previous file stays byte-identical, no temp file is left, readiness turns
 * 503; once space is freed readiness recovers by itself and the next write succeeds. Run with the
 * writes on the thread pool (the default) and inline (STATE_WRITES=inline).
 */
afterAll(() => {
  if (mounted) execFileSync('umount', [stateDir]);
  rmSync(root, { recursive: true, force: true });
});

describe.each(['threadpool', 'inline'])('a full disk (%s writes)', (writes) => {
  let app: NestFastifyApplication;
  const post = (doc: unknown) =>
    app.inject({ method: 'POST', url: '/meta/metrics', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(doc) });

  beforeAll(async () => {
    if (mounted) app = await createTestApp({ NEOLIGHT_ROOT: root, READY_MIN_FREE_DISK_BYTES: '0', STATE_WRITES: writes });
  });
  afterAll(async () => {
    await app?.close();
    rmSync(join(stateDir, 'filler.bin'), { force: true }); // the other mode starts on a disk with room
  });

  itWhenMounted('refuses what does not fit, keeps the old file, reports not-ready, and recovers', async () => {
    expect(app.get(StateRepository).savesBlockTheLoop).toBe(writes === 'inline');
    expect((await post(fixtureWith(1))).statusCode).toBe(200);
    const good = readFileSync(join(stateDir, 'meta_metrics.json'));

    const filler = fill(stateDir);
    const refused = await post(fixtureWith(2));
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toEqual({ error: expect.stringContaining('could not store'), code: 503 });
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(readFileSync(join(stateDir, 'meta_metrics.json'))).toEqual(good);
    expect(readdirSync(stateDir).filter((f) => f.includes('.tmp-') || f === '.write-probe')).toEqual([]);
    expect((await app.inject('/meta/metrics')).json().seq).toBe(1);

    const notReady = await app.inject('/health/ready');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toMatchObject({ code: 503, error: expect.any(String) });
    expect((await app.inject('/health/live')).statusCode).toBe(200);
    expect((await app.inject('/health')).statusCode).toBe(200);

    rmSync(filler);
    expect((await app.inject('/health/ready')).statusCode).toBe(200);
    expect((await post(fixtureWith(3))).statusCode).toBe(200);
    expect(JSON.parse(readFileSync(join(stateDir, 'meta_metrics.json'), 'utf8')).seq).toBe(3);
  });

  itWhenMounted('refuses a single document larger than the disk without touching the old one', async () => {
    const before = readFileSync(join(stateDir, 'meta_metrics.json'));
    // 96 KiB of padding, in strings under the 64 Ki-character limit on any one string
    const huge = fixtureWith(4, { padding: Array.from({ length: 3 }, () => 'x'.repeat(32 * 1024)) });
    expect((await post(huge)).statusCode).toBe(503);
    expect(readFileSync(join(stateDir, 'meta_metrics.json'))).toEqual(before);
    expect(readdirSync(stateDir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect((await post(fixtureWith(5))).statusCode).toBe(200);
  });
});
