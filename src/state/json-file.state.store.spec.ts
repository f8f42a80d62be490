import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { JsonFileStateStore } from './json-file.state.store.js';
import { describeStateRepositoryContract } from './state-repository.contract.js';
import type { StateKey } from './state.repository.js';

const WATCH_INTERVAL_MS = 50;

function tempPaths(): { dir: string; paths: Record<StateKey, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'json-file-store-'));
  return { dir, paths: { meta_metrics: join(dir, 'state', 'meta_metrics.json'), atlas: join(dir, 'state', 'atlas_state.json') } };
}

let quiet: jest.SpiedFunction<Logger['warn']>[] = [];
beforeEach(() => {
  quiet = [
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined),
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined),
  ];
});
afterEach(() => quiet.forEach((spy) => spy.mockRestore()));

for (const writeMode of ['threadpool', 'inline'] as const) {
  describeStateRepositoryContract(`JsonFileStateStore (${writeMode} writes)`, () => {
    const { dir, paths } = tempPaths();
    return {
      repo: new JsonFileStateStore(paths, { watchIntervalMs: WATCH_INTERVAL_MS, writeMode }),
      peer: new JsonFileStateStore(paths, { watchIntervalMs: WATCH_INTERVAL_MS, writeMode }),
      corrupt: async (key, raw) => writeFileSync(paths[key], raw),
      watchLatencyMs: WATCH_INTERVAL_MS * 4,
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  });
}

describe('JsonFileStateStore', () => {
  let dir: string;
  let paths: Record<StateKey, string>;
  let sut: JsonFileStateStore;

  beforeEach(() => {
    ({ dir, paths } = tempPaths());
    sut = new JsonFileStateStore(paths, { watchIntervalMs: WATCH_INTERVAL_MS });
  });

  afterEach(async () => {
    await sut.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps other stores' watchers on the same file when one store stops watching", async () => {
    // Arrange
    const watcher = new JsonFileStateStore(paths, { watchIntervalMs: WATCH_INTERVAL_MS });
    const other = new JsonFileStateStore(paths, { watchIntervalMs: WATCH_INTERVAL_MS });
    const writer = new JsonFileStateStore(paths, { watchIntervalMs: WATCH_INTERVAL_MS });
    await writer.open();
    await writer.save('meta_metrics', '{"n":0}');
    const seen: StateKey[] = [];
    watcher.watch((key) => seen.push(key));
    other.watch(() => undefined)();
    await other.close();

    // Act
    await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS * 2));
    await writer.save('meta_metrics', '{"n":1}');
    for (let i = 0; i < 40 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));

    // Assert
    expect(seen).toContain('meta_metrics');
    await watcher.close();
  });

  it('creates the state directory on open', async () => {
    // Act
    await sut.open();

    // Assert
    expect(existsSync(dirname(paths.meta_metrics))).toBe(true);
  });

  it('removes temp files an interrupted write left behind, and nothing else', async () => {
    // Arrange
    const stateDir = dirname(paths.meta_metrics);
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(paths.meta_metrics, '{"seq":1}');
    writeFileSync(join(stateDir, 'meta_metrics.json.tmp-4242-7'), '{"seq":2, "half');
    writeFileSync(join(stateDir, 'atlas_state.json.tmp-4242-8'), '{');
    writeFileSync(join(stateDir, 'performance_attribution.json'), '{"decisions":[]}');
    writeFileSync(join(stateDir, 'notes.tmp-1'), 'not ours');

    // Act
    await sut.open();

    // Assert
    expect(readdirSync(stateDir).sort()).toEqual(['meta_metrics.json', 'notes.tmp-1', 'performance_attribution.json']);
    expect(readFileSync(paths.meta_metrics, 'utf8')).toBe('{"seq":1}');
  });

  it('writes each document as a JSON file at its path', async () => {
    // Arrange
    await sut.open();
    const meta = { per_agent: { SmartTrader: { pnl_7d: -1189.81 } }, guardian: { is_paused: true } };

    // Act
    await sut.save('meta_metrics', JSON.stringify(meta));
    await sut.save('atlas', JSON.stringify({ trade: { symbol: 'BTC' } }));

    // Assert
    expect(JSON.parse(readFileSync(paths.meta_metrics, 'utf8'))).toEqual(meta);
    expect(JSON.parse(readFileSync(paths.atlas, 'utf8'))).toEqual({ trade: { symbol: 'BTC' } });
    expect(readdirSync(dirname(paths.meta_metrics)).sort()).toEqual(['atlas_state.json', 'meta_metrics.json']);
  });

  it('moves an unreadable file aside as <file>.corrupt-<timestamp>, bytes intact', async () => {
    // Arrange
    await sut.open();
    const torn = '{"per_agent": {"SmartTrader": {"pnl_7d": -11';
    writeFileSync(paths.meta_metrics, torn);

    // Act
    const { value, quarantinedTo } = await sut.load('meta_metrics');

    // Assert
    expect(value).toBeUndefined();
    expect(dirname(quarantinedTo!)).toBe(dirname(paths.meta_metrics));
    expect(basename(quarantinedTo!)).toMatch(/^meta_metrics\.json\.corrupt-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/);
    expect(readFileSync(quarantinedTo!, 'utf8')).toBe(torn);
    expect(existsSync(paths.meta_metrics)).toBe(false);
  });

  it('leaves an unreadable file in place, and loads nothing, when it cannot be moved aside', async () => {
    // Arrange: the name leaves no room for the ".corrupt-<timestamp>" suffix (ENAMETOOLONG), as
    // root on a writable volume cannot otherwise be refused a rename
    const long = join(dir, 'state', `${'m'.repeat(240)}.json`);
    const store = new JsonFileStateStore({ ...paths, meta_metrics: long });
    await store.open();
    writeFileSync(long, '{"per_agent": {');

    // Act
    const result = await store.load('meta_metrics');

    // Assert
    expect(result).toEqual({ quarantinedTo: undefined });
    expect(readFileSync(long, 'utf8')).toBe('{"per_agent": {');
    await store.close();
  });

  it('names the file when a stored document cannot be read at all', async () => {
    // Arrange
    await sut.open();
    mkdirSync(paths.meta_metrics);

    // Act
    const act = sut.load('meta_metrics');

    // Assert
    await expect(act).rejects.toMatchObject({ code: 'EISDIR', message: expect.stringContaining(paths.meta_metrics) });
  });

  it('leaves no probe file behind', async () => {
    // Arrange
    await sut.open();

    // Act
    await sut.probe(1024);

    // Assert
    expect(readdirSync(dirname(paths.meta_metrics))).toEqual([]);
  });

  it('fails the probe when the state directory cannot take a file', async () => {
    // Arrange
    await sut.open();
    rmSync(dirname(paths.meta_metrics), { recursive: true });

    // Act
    const probe = sut.probe(1024);

    // Assert
    await expect(probe).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    ['threadpool', false],
    ['inline', true],
  ] as const)('with %s writes, says whether its saves block the event loop: %s', (writeMode, blocks) => {
    // Act
    const store = new JsonFileStateStore(paths, { writeMode });

    // Assert
    expect(store.savesBlockTheLoop).toBe(blocks);
  });

  it('probes on the thread pool even with inline writes: readiness never blocks the event loop', async () => {
    // Arrange
    const inline = new JsonFileStateStore(paths, { writeMode: 'inline' });
    await inline.open();
    const probeFile = join(dirname(paths.meta_metrics), '.write-probe');

    // Act: where is the probe when the loop next turns? An inline write would already be in place.
    const probe = inline.probe(1024);
    const inPlace = await new Promise<boolean>((resolve) => setImmediate(() => resolve(existsSync(probeFile))));
    await probe;

    // Assert
    expect(inPlace).toBe(false);
    await inline.close();
  });
});
