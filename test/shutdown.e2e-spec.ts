import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { postFresh, startServer, tempRoot } from './support/server.js';

/**
 * SIGTERM while requests are in flight and documents queued: every in-flight request gets its
 * answer (200, or 503 once shutdown began), everything acknowledged is on disk, exit code 0.
 */
describe('graceful shutdown', () => {
  it('answers every in-flight request, flushes what it acknowledged, exits 0', async () => {
    const root = tempRoot('neolight-term-');
    const server = await startServer({ NEOLIGHT_ROOT: root });
    const count = 60;
    let sent = 0;
    let signalled: Promise<number | string> | undefined;
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        postFresh(`${server.url}/atlas/update`, { type: `d${i}`, seq: i }, () => {
          if (++sent === count) signalled = server.kill('SIGTERM');
        }),
      ),
    );
    expect(await signalled).toBe(0);

    expect(results.filter((r) => r.error)).toEqual([]);
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    for (const r of results.filter((x) => x.status === 503)) expect(r.headers?.['retry-after']).toMatch(/^\d+$/);

    const onDisk = JSON.parse(readFileSync(join(root, 'state', 'atlas_state.json'), 'utf8'));
    results.forEach((r, i) => {
      if (r.status === 200) expect(onDisk.latest[`d${i}`]?.payload.seq).toBe(i);
    });
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(server.lines.some((l) => l.includes('stopped cleanly'))).toBe(true);
  });

  it('refuses new documents with 503 (and Retry-After) once shutdown has begun, and still exits 0', async () => {
    const root = tempRoot('neolight-term2-');
    const server = await startServer({ NEOLIGHT_ROOT: root, SHUTDOWN_LINGER_MS: '400' });
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => postFresh(`${server.url}/atlas/update`, { type: `e${i}`, seq: i })));
    expect(before.map((r) => r.status)).toEqual(new Array(20).fill(200));

    const exit = server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => postFresh(`${server.url}/atlas/update`, { type: `late${i}`, seq: i })));
    expect(await exit).toBe(0);

    for (const r of after) {
      if (r.error) expect(['ECONNREFUSED', 'ECONNRESET']).toContain(r.error);
      else {
        expect(r.status).toBe(503);
        expect(r.body).toEqual({ error: expect.stringContaining('shutting down'), code: 503 });
        expect(r.headers?.['retry-after']).toMatch(/^\d+$/);
      }
    }
    expect(after.filter((r) => r.status === 503).length).toBeGreaterThan(0);
    // Refusals during shutdown are answers as designed: logged as warnings, never as faults with a stack.
    const refusals = server.lines.filter((l) => l.includes('"status":503'));
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.map((l) => JSON.parse(l).level)).toEqual(refusals.map(() => 'warn'));
    expect(server.lines.filter((l) => l.includes('request failed'))).toEqual([]);
    const onDisk = JSON.parse(readFileSync(join(root, 'state', 'atlas_state.json'), 'utf8'));
    before.forEach((_, i) => expect(onDisk.latest[`e${i}`].payload.seq).toBe(i));
    expect(Object.keys(onDisk.latest).filter((t) => t.startsWith('late'))).toEqual([]);
  });

  it('keeps draining through a second SIGTERM and a SIGINT, and exits 0', async () => {
    const root = tempRoot('neolight-term3-');
    const server = await startServer({ NEOLIGHT_ROOT: root, SHUTDOWN_LINGER_MS: '500' });
    expect((await postFresh(`${server.url}/atlas/update`, { type: 'before', seq: 1 })).status).toBe(200);

    const exit = server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    server.process.kill('SIGTERM');
    server.process.kill('SIGINT');
    expect(await exit).toBe(0);

    expect(server.lines.some((l) => l.includes('stopped cleanly'))).toBe(true);
    expect(server.lines.filter((l) => l.includes('already shutting down'))).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(root, 'state', 'atlas_state.json'), 'utf8')).latest.before.payload.seq).toBe(1);
  });

  it('is not held up by a CONNECT client that never closes its side', async () => {
    const server = await startServer({ NEOLIGHT_ROOT: tempRoot('neolight-term4-'), SHUTDOWN_GRACE_MS: '3000' });
    const socket = connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => undefined);
    const answered = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.write('CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
    expect(await answered).toMatch(/^HTTP\/1\.1 405 /);

    expect(await server.kill('SIGTERM')).toBe(0);
    expect(server.lines.some((l) => l.includes('stopped cleanly'))).toBe(true);
    socket.destroy();
  });
});
