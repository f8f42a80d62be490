import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { InvalidDocumentError, UnavailableError } from '../common/domain.error.js';
import { ShutdownState } from '../common/shutdown.state.js';
import { loadConfig } from '../config/app.config.js';
import { InMemoryBackend, InMemoryStateStore } from '../state/in-memory.state.store.js';
import type { StateKey } from '../state/state.repository.js';
import { type Document, IngestQueue, type Snapshot } from './ingest.queue.js';

/** An in-memory store whose saves the test can hold back or make fail, and count. */
class ControlledStore extends InMemoryStateStore {
  /** Every document a save was asked to write, in order (failed ones included). */
  readonly saves: string[] = [];
  /** While set, saves (and probes) fail with it, as on a full disk. */
  failure: Error | undefined;
  /** When set, only saves of this document fail (a small one still fits on a nearly full disk). */
  failingKey: StateKey | undefined;
  /** Runs once a save has landed, before it resolves (to act between two writes of the queue). */
  afterSave: ((key: StateKey) => Promise<void>) | undefined;
  /** Whether it says its saves block the event loop (as the file store does with inline writes). */
  blocking = false;

  override get savesBlockTheLoop(): boolean {
    return this.blocking;
  }
  private gate: { promise: Promise<void>; open: () => void } | undefined;

  /** Holds every save until `release()`. */
  hold(): void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  release(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.open();
  }

  override async save(key: StateKey, json: string): Promise<void> {
    this.saves.push(json);
    if (this.gate) await this.gate.promise;
    if (this.failure && (this.failingKey === undefined || this.failingKey === key)) throw this.failure;
    await super.save(key, json);
    await this.afterSave?.(key);
  }

  override async probe(bytes: number): Promise<void> {
    if (this.failure && this.failingKey === undefined) throw this.failure;
    await super.probe(bytes);
  }
}

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** Lets queued work run: promise callbacks and I/O callbacks, a few rounds. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Waits (a bounded number of rounds) until `condition` holds. */
async function until(condition: () => boolean, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds && !condition(); i++) await settle(1);
  expect(condition()).toBe(true);
}

/** Records whether a promise settled, without awaiting it. */
function track<T>(promise: Promise<T>): { settled: () => boolean } {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { settled: () => done };
}

/** Everything submitted here is a list the reducers append to, so order and loss are visible. */
type Doc = Document & { seen: number[] };
const FALLBACK = (): Document => ({ seen: [], stale: true });
const isDoc = (value: unknown): value is Document =>
  typeof value === 'object' && value !== null && Array.isArray((value as { seen?: unknown }).seen);
const append =
  (n: number) =>
  (previous: Document): Document => ({ ...previous, seen: [...(previous as Doc).seen, n], stale: false });
const seenIn = (snapshot: Snapshot) => (snapshot.value as Doc).seen;
const storedSeen = (backend: InMemoryBackend, key: StateKey = 'meta_metrics') => (JSON.parse(backend.documents.get(key)!) as Doc).seen;

describe('IngestQueue', () => {
  let backend: InMemoryBackend;
  let store: ControlledStore;
  let shutdown: ShutdownState;
  let sut: IngestQueue;
  let logError: jest.SpiedFunction<Logger['error']>;

  function makeQueue(env: Record<string, string> = {}): IngestQueue {
    return new IngestQueue(store, loadConfig({ LOG_LEVEL: 'silent', ...env }), shutdown);
  }

  beforeEach(() => {
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    backend = new InMemoryBackend();
    store = new ControlledStore(backend);
    shutdown = new ShutdownState();
  });

  afterEach(async () => {
    store.failure = undefined;
    store.failingKey = undefined;
    store.release();
    await sut?.onModuleDestroy();
    logError.mockRestore();
  });

  describe('open', () => {
    it('serves the fallback when nothing is stored', async () => {
      // Arrange
      sut = makeQueue();

      // Act
      await sut.open('meta_metrics', FALLBACK, isDoc);

      // Assert
      expect(sut.snapshot('meta_metrics').value).toEqual({ seen: [], stale: true });
      expect(sut.snapshot('meta_metrics').json).toBe('{"seen":[],"stale":true}');
      expect(store.saves).toEqual([]);
    });

    it('serves the stored document when it is valid', async () => {
      // Arrange
      backend.documents.set('meta_metrics', '{"seen":[1,2],"mode":"LIVE_MODE"}');
      sut = makeQueue();

      // Act
      await sut.open('meta_metrics', FALLBACK, isDoc);

      // Assert
      expect(sut.snapshot('meta_metrics').value).toEqual({ seen: [1, 2], mode: 'LIVE_MODE' });
      expect(sut.counters.quarantined).toBe(0);
    });

    it('quarantines a stored document that breaks the rules and serves the fallback', async () => {
      // Arrange
      backend.documents.set('meta_metrics', '{"per_agent":null}');
      sut = makeQueue();

      // Act
      await sut.open('meta_metrics', FALLBACK, isDoc);

      // Assert
      expect(sut.snapshot('meta_metrics').value).toEqual({ seen: [], stale: true });
      expect(sut.counters.quarantined).toBe(1);
      expect(backend.documents.has('meta_metrics')).toBe(false);
      expect([...backend.documents.values()]).toEqual(['{"per_agent":null}']);
    });

    it('counts a stored document the store could not parse as quarantined, and serves the fallback', async () => {
      // Arrange
      backend.documents.set('meta_metrics', '{"seen":[1,');
      sut = makeQueue();

      // Act
      await sut.open('meta_metrics', FALLBACK, isDoc);

      // Assert
      expect(sut.snapshot('meta_metrics').value).toEqual({ seen: [], stale: true });
      expect(sut.counters.quarantined).toBe(1);
    });

    it('warns when the stored document is already larger than DOCUMENT_MAX_BYTES, and serves it', async () => {
      // Arrange
      const logWarn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      backend.documents.set('meta_metrics', JSON.stringify({ seen: [7], pad: 'x'.repeat(2000) }));
      sut = makeQueue({ BODY_LIMIT_BYTES: '1024', DOCUMENT_MAX_BYTES: '1024' });

      // Act
      await sut.open('meta_metrics', FALLBACK, isDoc, undefined, { capped: true });

      // Assert
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([7]);
      expect(logWarn).toHaveBeenCalledWith(expect.objectContaining({ key: 'meta_metrics', limit: 1024 }), 'the stored document is larger than DOCUMENT_MAX_BYTES');
      logWarn.mockRestore();
    });

    it('keeps channels apart', async () => {
      // Arrange
      backend.documents.set('atlas', '{"seen":[9]}');
      sut = makeQueue();
      await sut.open('meta_metrics', FALLBACK, isDoc);
      await sut.open('atlas', FALLBACK, isDoc);

      // Act
      await sut.submit('meta_metrics', append(1));

      // Assert
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([1]);
      expect(seenIn(sut.snapshot('atlas'))).toEqual([9]);
      expect(backend.documents.get('atlas')).toBe('{"seen":[9]}');
    });

    it('refuses a channel that was never opened', () => {
      // Arrange
      sut = makeQueue();

      // Act / Assert
      expect(() => sut.snapshot('atlas')).toThrow(/not open/);
    });
  });

  describe('durable mode (the default)', () => {
    beforeEach(async () => {
      sut = makeQueue({ INGEST_QUEUE_CAPACITY: '4' });
      await sut.open('meta_metrics', FALLBACK, isDoc);
    });

    it('applies submits in arrival order, and stores the result', async () => {
      // Act
      const results = await Promise.all([1, 2, 3, 4].map((n) => sut.submit('meta_metrics', append(n))));

      // Assert
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([1, 2, 3, 4]);
      expect(storedSeen(backend)).toEqual([1, 2, 3, 4]);
      expect(seenIn(results[3])).toEqual([1, 2, 3, 4]);
      expect(sut.counters).toMatchObject({ accepted: 4, rejected: 0, failed: 0 });
    });

    it('keeps serving the committed snapshot until the write is done, then resolves with the new one', async () => {
      // Arrange
      store.hold();
      const before = sut.snapshot('meta_metrics');

      // Act
      const submitted = sut.submit('meta_metrics', append(1));
      const tracked = track(submitted);
      await until(() => store.saves.length === 1);
      await settle();

      // Assert
      expect(tracked.settled()).toBe(false);
      expect(sut.snapshot('meta_metrics')).toBe(before);
      expect(backend.documents.has('meta_metrics')).toBe(false);
      store.release();
      const result = await submitted;
      expect(seenIn(result)).toEqual([1]);
      expect(sut.snapshot('meta_metrics')).toBe(result);
      expect(result.json).toBe(backend.documents.get('meta_metrics'));
      expect(result.etag).not.toBe(before.etag);
    });

    it('covers everything submitted during a write with one next write (group commit)', async () => {
      // Arrange
      store.hold();
      const first = sut.submit('meta_metrics', append(1));
      await until(() => store.saves.length === 1);

      // Act
      const rest = [2, 3, 4].map((n) => sut.submit('meta_metrics', append(n)));
      await settle();
      store.release();
      const results = await Promise.all([first, ...rest]);

      // Assert
      expect(store.saves).toHaveLength(2);
      expect(JSON.parse(store.saves[1]).seen).toEqual([1, 2, 3, 4]);
      expect(seenIn(results[0])).toEqual([1]);
      for (const result of results.slice(1)) expect(seenIn(result)).toEqual([1, 2, 3, 4]);
    });

    /** Four submits read in one turn of the loop, each handled in its own callback; the documents each write held. */
    async function oneTurnOfSubmits(): Promise<number[][]> {
      const submitted: Promise<Snapshot>[] = [];
      for (const n of [1, 2, 3, 4]) {
        submitted.push(sut.submit('meta_metrics', append(n)));
        for (let i = 0; i < 10; i++) await Promise.resolve();
      }
      await Promise.all(submitted);
      return store.saves.map((json) => (JSON.parse(json) as Doc).seen);
    }

    it('starts writing the first document at once when saves leave the loop free (thread pool)', async () => {
      // Act
      const writes = await oneTurnOfSubmits();

      // Assert
      expect(writes[0]).toEqual([1]);
      expect(writes.at(-1)).toEqual([1, 2, 3, 4]);
    });

    it('lets the turn of the event loop end, then writes everything once, when saves block the loop (inline)', async () => {
      // Arrange
      store.blocking = true;

      // Act
      const writes = await oneTurnOfSubmits();

      // Assert
      expect(writes).toEqual([[1, 2, 3, 4]]);
    });

    it('answers 503 with retry-after beyond capacity, counting every document once', async () => {
      // Arrange (capacity 4: one in the write, three waiting)
      store.hold();
      const accepted = [sut.submit('meta_metrics', append(1))];
      await until(() => store.saves.length === 1);
      const refusals: unknown[] = [];

      // Act
      for (let n = 2; n <= 8; n++) {
        try {
          accepted.push(sut.submit('meta_metrics', append(n)));
        } catch (error) {
          refusals.push(error);
        }
      }
      const depthWhileFull = sut.depth;
      store.release();
      await Promise.all(accepted);

      // Assert
      expect(accepted).toHaveLength(4);
      expect(depthWhileFull).toBe(4);
      expect(refusals).toHaveLength(4);
      for (const error of refusals) {
        expect(error).toBeInstanceOf(UnavailableError);
        expect(error).toMatchObject({ code: 503, extra: { headers: { 'retry-after': expect.stringMatching(/^\d+$/) } } });
      }
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([1, 2, 3, 4]);
      expect(sut.counters.accepted + sut.counters.rejected).toBe(8);
      expect(sut.counters).toMatchObject({ accepted: 4, rejected: 4, failed: 0 });
      expect(sut.depth).toBe(0);
    });

    it('takes documents again once the queue has room', async () => {
      // Arrange
      store.hold();
      const pending = [1, 2, 3, 4].map((n) => sut.submit('meta_metrics', append(n)));
      expect(() => sut.submit('meta_metrics', append(5))).toThrow(UnavailableError);
      store.release();
      await Promise.all(pending);

      // Act
      const result = await sut.submit('meta_metrics', append(6));

      // Assert
      expect(seenIn(result)).toEqual([1, 2, 3, 4, 6]);
    });

    it('rejects every document of a failed write with 503 and keeps the committed snapshot', async () => {
      // Arrange
      await sut.submit('meta_metrics', append(0));
      const committed = sut.snapshot('meta_metrics');
      store.hold();
      const first = sut.submit('meta_metrics', append(1));
      await until(() => store.saves.length === 2);
      const batch = [2, 3].map((n) => sut.submit('meta_metrics', append(n)));
      store.failure = enospc();

      // Act
      store.release();
      const outcomes = await Promise.allSettled([first, ...batch]);

      // Assert
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as UnavailableError;
        expect(reason).toBeInstanceOf(UnavailableError);
        expect(reason.code).toBe(503);
        expect(reason.extra.headers).toHaveProperty('retry-after');
      }
      expect(store.saves).toHaveLength(3);
      expect(JSON.parse(store.saves[2]).seen).toEqual([0, 2, 3]);
      expect(sut.snapshot('meta_metrics')).toBe(committed);
      expect(storedSeen(backend)).toEqual([0]);
      expect(sut.counters).toMatchObject({ accepted: 1, failed: 3, writeFailures: 2 });
      expect(sut.failedWrites.get('meta_metrics')).toBe(store.failure);
    });

    it('drops the failed documents and accepts new ones once writes work again', async () => {
      // Arrange
      await sut.submit('meta_metrics', append(0));
      store.failure = enospc();
      await expect(sut.submit('meta_metrics', append(1))).rejects.toBeInstanceOf(UnavailableError);
      store.failure = undefined;

      // Act
      const result = await sut.submit('meta_metrics', append(2));

      // Assert
      expect(seenIn(result)).toEqual([0, 2]);
      expect(storedSeen(backend)).toEqual([0, 2]);
      expect(sut.failedWrites.get('meta_metrics')).toBeUndefined();
      expect(sut.counters).toMatchObject({ accepted: 2, failed: 1, writeFailures: 1 });
    });

    it('keeps the last write error until recheck() finds the store writable again', async () => {
      // Arrange
      store.failure = enospc();
      await expect(sut.submit('meta_metrics', append(1))).rejects.toBeInstanceOf(UnavailableError);

      // Act
      const whileFull = await sut.recheck();
      const errorWhileFull = sut.failedWrites.get('meta_metrics');
      store.failure = undefined;
      const afterwards = await sut.recheck();

      // Assert
      expect(whileFull).toBe(false);
      expect(errorWhileFull).toMatchObject({ code: 'ENOSPC' });
      expect(afterwards).toBe(true);
      expect(sut.failedWrites.get('meta_metrics')).toBeUndefined();
    });

    it("keeps one document's write error while another document's writes succeed", async () => {
      // Arrange
      await sut.open('atlas', FALLBACK, isDoc);
      store.failure = enospc();
      store.failingKey = 'meta_metrics';
      await expect(sut.submit('meta_metrics', append(1))).rejects.toBeInstanceOf(UnavailableError);

      // Act
      const atlas = await sut.submit('atlas', append(2));

      // Assert
      expect(seenIn(atlas)).toEqual([2]);
      expect(sut.failedWrites.get('meta_metrics')).toMatchObject({ code: 'ENOSPC' });
      expect(sut.accepting).toBe(false);
    });

    it('recheck() is true and writes nothing when no write has failed', async () => {
      // Act
      const result = await sut.recheck();

      // Assert
      expect(result).toBe(true);
      expect(store.saves).toEqual([]);
    });

    it('queues nothing when a reducer throws', async () => {
      // Arrange
      const before = sut.snapshot('meta_metrics');
      const invalid = () => {
        throw new InvalidDocumentError('per_agent must be an object');
      };

      // Act
      const act = () => sut.submit('meta_metrics', invalid);

      // Assert
      expect(act).toThrow(InvalidDocumentError);
      expect(sut.depth).toBe(0);
      await sut.drain();
      expect(store.saves).toEqual([]);
      expect(sut.snapshot('meta_metrics')).toBe(before);
      expect(seenIn(await sut.submit('meta_metrics', append(1)))).toEqual([1]);
    });

    it('refuses with a 500 a document that cannot be serialized, instead of hanging, and keeps taking others', async () => {
      // Arrange
      await sut.submit('meta_metrics', append(0));
      const committed = sut.snapshot('meta_metrics');
      const unserializable = (previous: Document): Document => ({ ...previous, big: 10n });

      // Act
      const refused = sut.submit('meta_metrics', unserializable);

      // Assert
      await expect(refused).rejects.toMatchObject({ code: 500 });
      expect(sut.depth).toBe(0);
      expect(sut.snapshot('meta_metrics')).toBe(committed);
      expect(sut.failedWrites.get('meta_metrics')).toBeUndefined();
      expect(seenIn(await sut.submit('meta_metrics', append(1)))).toEqual([0, 1]);
      expect(storedSeen(backend)).toEqual([0, 1]);
      expect(JSON.parse(store.saves[store.saves.length - 1])).not.toHaveProperty('big');
    });

    it('refuses with 413 a change that would grow the document past DOCUMENT_MAX_BYTES, and keeps taking others', async () => {
      // Arrange
      sut = makeQueue({ BODY_LIMIT_BYTES: '1024', DOCUMENT_MAX_BYTES: '1024' });
      await sut.open('meta_metrics', FALLBACK, isDoc, undefined, { capped: true });
      await sut.submit('meta_metrics', append(1));
      const grow = (previous: Document): Document => ({ ...previous, pad: 'x'.repeat(2000) });

      // Act
      const outcome = sut.submit('meta_metrics', grow);

      // Assert
      await expect(outcome).rejects.toMatchObject({ code: 413, message: expect.stringContaining('DOCUMENT_MAX_BYTES') });
      expect(seenIn(await sut.submit('meta_metrics', append(2)))).toEqual([1, 2]);
      expect(storedSeen(backend)).toEqual([1, 2]);
      expect(store.saves.every((json) => json.length <= 1024)).toBe(true);
    });

    it('refuses only the change that takes the document over DOCUMENT_MAX_BYTES, not the rest of its group write', async () => {
      // Arrange: three changes wait behind a write in progress, the middle one too large
      sut = makeQueue({ BODY_LIMIT_BYTES: '1024', DOCUMENT_MAX_BYTES: '1024', INGEST_QUEUE_CAPACITY: '8' });
      await sut.open('meta_metrics', FALLBACK, isDoc, undefined, { capped: true });
      store.hold();
      const first = sut.submit('meta_metrics', append(1));
      await until(() => store.saves.length === 1);
      const grow = (previous: Document): Document => ({ ...previous, pad: 'x'.repeat(2000) });
      const batch = [sut.submit('meta_metrics', append(2)), sut.submit('meta_metrics', grow), sut.submit('meta_metrics', append(3))];

      // Act
      store.release();
      const outcomes = await Promise.allSettled([first, ...batch]);

      // Assert
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: 413 });
      expect(storedSeen(backend)).toEqual([1, 2, 3]);
      expect(JSON.parse(backend.documents.get('meta_metrics')!)).not.toHaveProperty('pad');
      expect(sut.counters).toMatchObject({ accepted: 3, failed: 1 });
    });

    it('does not cap a document opened without `capped` (atlas: bounded by its types instead)', async () => {
      // Arrange
      sut = makeQueue({ BODY_LIMIT_BYTES: '1024', DOCUMENT_MAX_BYTES: '1024' });
      await sut.open('atlas', FALLBACK, isDoc);

      // Act
      const result = await sut.submit('atlas', (previous) => ({ ...previous, pad: 'x'.repeat(2000) }));

      // Assert
      expect(result.bytes.length).toBeGreaterThan(2000);
    });

    it('refuses documents with 503 once shutdown has begun', async () => {
      // Arrange
      shutdown.begin();

      // Act
      const act = () => sut.submit('meta_metrics', append(1));

      // Assert
      expect(act).toThrow(UnavailableError);
      expect(act).toThrow(expect.objectContaining({ code: 503, extra: { headers: { 'retry-after': expect.any(String) } } }));
      await sut.drain();
      expect(store.saves).toEqual([]);
      expect(sut.counters.rejected).toBe(2);
    });

    it('drain() resolves only once the pending writes are done', async () => {
      // Arrange
      store.hold();
      const submitted = sut.submit('meta_metrics', append(1));
      await until(() => store.saves.length === 1);

      // Act
      const drained = sut.drain();
      const tracked = track(drained);
      await settle();

      // Assert
      expect(tracked.settled()).toBe(false);
      store.release();
      await drained;
      expect(storedSeen(backend)).toEqual([1]);
      expect(seenIn(await submitted)).toEqual([1]);
    });

    it('writes and announces a document once when its changes were already written with another document', async () => {
      // Arrange: a meta write is held while an atlas change and then a second one arrive
      await sut.open('atlas', FALLBACK, isDoc);
      const announced: StateKey[] = [];
      sut.onChange((key) => announced.push(key));
      store.hold();
      const first = sut.submit('meta_metrics', append(1));
      await until(() => store.saves.length === 1);
      const metaSecond = sut.submit('meta_metrics', append(2));
      const atlasFirst = sut.submit('atlas', append(1));
      store.release();
      store.hold();
      await until(() => store.saves.length === 2); // the second group write: meta first, held
      const atlasSecond = sut.submit('atlas', append(2)); // folded into the atlas write that follows it

      // Act
      store.release();
      await Promise.all([first, atlasFirst, metaSecond, atlasSecond]);
      await sut.drain();

      // Assert
      expect(storedSeen(backend, 'atlas')).toEqual([1, 2]);
      expect(store.saves).toEqual(['{"seen":[1],"stale":false}', '{"seen":[1,2],"stale":false}', '{"seen":[1,2],"stale":false}']); // meta, meta, atlas
      expect(announced).toEqual(['meta_metrics', 'meta_metrics', 'atlas']);
    });

    it('acknowledges nothing the store lost: a failed write-back after a bad foreign file makes the next change write (and fail), then is retried', async () => {
      // Arrange: the second atlas change is folded into the atlas write of the second group write
      await sut.open('atlas', FALLBACK, isDoc);
      const replica = new InMemoryStateStore(backend);
      store.hold();
      const m1 = sut.submit('meta_metrics', append(1));
      await until(() => store.saves.length === 1);
      const m2 = sut.submit('meta_metrics', append(2));
      const a1 = sut.submit('atlas', append(1));
      store.release();
      store.hold();
      await until(() => store.saves.length === 2); // group write 2: meta, held
      const w1 = sut.submit('atlas', append(2)); // folded into the atlas write that follows
      // Right after that atlas write lands, another writer leaves the file unreadable, and our
      // writes of it start failing: the write-back fails, and the store holds no atlas document.
      store.afterSave = async (key) => {
        if (key !== 'atlas') return;
        store.afterSave = undefined;
        await replica.save('atlas', '{"seen":[9');
        store.failure = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        store.failingKey = 'atlas';
      };

      // Act
      store.release();
      const outcomes = await Promise.allSettled([m1, m2, a1, w1]);

      // Assert: the change whose only copy was lost is not acknowledged
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
      expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError);
      expect(sut.counters.quarantined).toBe(1);
      expect(await sut.recheck()).toBe(false); // the probe file fits; the store still lacks the document
      store.failure = undefined;
      store.failingKey = undefined;
      // The write-back is retried by itself, a second later
      for (let i = 0; i < 60 && !backend.documents.has('atlas'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(storedSeen(backend, 'atlas')).toEqual([1, 2]);
      expect(await sut.recheck()).toBe(true);
    });

    it('tells onChange listeners about each committed snapshot', async () => {
      // Arrange
      const listener = jest.fn<(key: StateKey, snapshot: Snapshot) => void>();
      sut.onChange(listener);

      // Act
      const result = await sut.submit('meta_metrics', append(1));

      // Assert
      expect(listener).toHaveBeenCalledWith('meta_metrics', result);
    });

    it('takes in a document another instance stored in the shared backend', async () => {
      // Arrange
      const replica = new InMemoryStateStore(backend);
      const listener = jest.fn<(key: StateKey, snapshot: Snapshot) => void>();
      sut.onChange(listener);

      // Act
      await replica.save('meta_metrics', '{"seen":[40,41]}');
      await until(() => listener.mock.calls.length > 0);

      // Assert
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([40, 41]);
      expect(store.saves).toEqual([]);
      expect(seenIn(await sut.submit('meta_metrics', append(42)))).toEqual([40, 41, 42]);
    });

    it('keeps serving (and does not crash) when reading a change made elsewhere fails', async () => {
      // Arrange
      await sut.submit('meta_metrics', append(1));
      const failingLoad = jest.spyOn(store, 'load').mockRejectedValue(Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
      const replica = new InMemoryStateStore(backend);

      // Act
      await replica.save('meta_metrics', '{"seen":[99]}');
      await until(() => failingLoad.mock.calls.length > 0);
      await sut.drain();

      // Assert
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([1]);
      expect(seenIn(await sut.submit('meta_metrics', append(2)))).toEqual([1, 2]);
    });

    it('ignores (and quarantines) an invalid document another instance stored, and stores the committed one again', async () => {
      // Arrange
      await sut.submit('meta_metrics', append(1));
      const replica = new InMemoryStateStore(backend);

      // Act
      await replica.save('meta_metrics', '{"per_agent":null}');
      await until(() => sut.counters.quarantined === 1);
      await sut.drain();

      // Assert
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([1]);
      expect(storedSeen(backend)).toEqual([1]);
      expect([...backend.documents.values()]).toContain('{"per_agent":null}');
    });

    it('stores nothing back when the committed document is only the fallback (never posted)', async () => {
      // Arrange
      const replica = new InMemoryStateStore(backend);

      // Act
      await replica.save('meta_metrics', '{"seen":[2');
      await until(() => sut.counters.quarantined === 1);
      await sut.drain();

      // Assert: the fallback would hide what it reads at the next start (an operator's pause)
      expect(backend.documents.has('meta_metrics')).toBe(false);
      expect(sut.snapshot('meta_metrics').value).toEqual(FALLBACK());
    });

    it('stores the committed document again when another instance stored something unreadable', async () => {
      // Arrange
      await sut.submit('meta_metrics', append(1));
      const replica = new InMemoryStateStore(backend);

      // Act
      await replica.save('meta_metrics', '{"seen":[2');
      await until(() => sut.counters.quarantined === 1);
      await sut.drain();

      // Assert
      expect(storedSeen(backend)).toEqual([1]);
      expect(seenIn(await sut.submit('meta_metrics', append(3)))).toEqual([1, 3]);
    });
  });

  describe('enqueue mode', () => {
    beforeEach(async () => {
      sut = makeQueue({ INGEST_ACK: 'enqueue', INGEST_QUEUE_CAPACITY: '4' });
      await sut.open('meta_metrics', FALLBACK, isDoc);
    });

    it('resolves before the write, with the change visible at once', async () => {
      // Arrange
      store.hold();

      // Act
      const result = await sut.submit('meta_metrics', append(1));

      // Assert
      expect(seenIn(result)).toEqual([1]);
      expect(sut.snapshot('meta_metrics')).toBe(result);
      expect(backend.documents.has('meta_metrics')).toBe(false);
      expect(sut.counters.accepted).toBe(1);
      store.release();
      await sut.drain();
      expect(storedSeen(backend)).toEqual([1]);
    });

    it('applies submits in arrival order and writes the latest', async () => {
      // Act
      for (const n of [1, 2, 3]) await sut.submit('meta_metrics', append(n));
      await sut.drain();

      // Assert
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([1, 2, 3]);
      expect(storedSeen(backend)).toEqual([1, 2, 3]);
    });

    it('refuses a document that cannot be serialized before changing anything', async () => {
      // Arrange
      await sut.submit('meta_metrics', append(1));
      const before = sut.snapshot('meta_metrics');

      // Act
      const act = () => sut.submit('meta_metrics', (previous) => ({ ...previous, big: 10n }));

      // Assert
      expect(act).toThrow(TypeError);
      expect(sut.snapshot('meta_metrics')).toBe(before);
      expect(seenIn(await sut.submit('meta_metrics', append(2)))).toEqual([1, 2]);
      await sut.drain();
      expect(storedSeen(backend)).toEqual([1, 2]);
    });

    it('answers 503 while the document cannot be written, and takes documents again once a write succeeds', async () => {
      // Arrange: the first document is acknowledged before its write fails
      store.failure = enospc();
      await sut.submit('meta_metrics', append(1));
      await until(() => sut.failedWrites.get('meta_metrics') !== undefined);

      // Act
      const whileFailing = () => sut.submit('meta_metrics', append(2));
      const rejected = sut.counters.rejected;
      expect(whileFailing).toThrow(UnavailableError);
      // A readiness poll's probe file fits, while this document's writes still fail: still refused
      store.failingKey = 'meta_metrics';
      expect(await sut.recheck()).toBe(false);
      expect(whileFailing).toThrow(UnavailableError);
      store.failingKey = undefined;
      store.failure = undefined;
      await sut.drain(); // the retry loop writes the first document and clears the error

      // Assert
      expect(sut.counters.rejected).toBe(rejected + 2);
      expect(sut.failedWrites.get('meta_metrics')).toBeUndefined();
      expect(seenIn(await sut.submit('meta_metrics', append(3)))).toEqual([1, 3]);
      await sut.drain();
      expect(storedSeen(backend)).toEqual([1, 3]);
    });

    it('refuses with 413, before acknowledging it, a change that would grow the document past DOCUMENT_MAX_BYTES', async () => {
      // Arrange
      sut = makeQueue({ INGEST_ACK: 'enqueue', BODY_LIMIT_BYTES: '1024', DOCUMENT_MAX_BYTES: '1024' });
      await sut.open('meta_metrics', FALLBACK, isDoc, undefined, { capped: true });
      await sut.submit('meta_metrics', append(1));
      const before = sut.snapshot('meta_metrics');

      // Act
      let refused: unknown;
      try {
        void sut.submit('meta_metrics', (previous) => ({ ...previous, pad: 'x'.repeat(2000) }));
      } catch (error) {
        refused = error;
      }

      // Assert
      expect(refused).toMatchObject({ code: 413, message: expect.stringContaining('DOCUMENT_MAX_BYTES') });
      expect(sut.snapshot('meta_metrics')).toBe(before);
      expect(sut.counters).toMatchObject({ accepted: 1, rejected: 1 });
      await sut.drain();
      expect(storedSeen(backend)).toEqual([1]);
    });

    it('counts and logs acknowledged changes that a larger document from another writer pushes over DOCUMENT_MAX_BYTES', async () => {
      // Arrange
      sut = makeQueue({ INGEST_ACK: 'enqueue', BODY_LIMIT_BYTES: '1024', DOCUMENT_MAX_BYTES: '1024' });
      await sut.open('meta_metrics', FALLBACK, isDoc, undefined, { capped: true });
      const replica = new InMemoryStateStore(backend);
      store.afterSave = async () => {
        store.afterSave = undefined;
        await replica.save('meta_metrics', JSON.stringify({ seen: [5], pad: 'x'.repeat(900) }));
      };
      store.hold();
      await sut.submit('meta_metrics', append(1));
      await until(() => store.saves.length === 1);
      await sut.submit('meta_metrics', (previous) => ({ ...append(2)(previous), pad2: 'y'.repeat(200) }));

      // Act
      store.release();
      await until(() => sut.counters.failed === 1);
      await sut.drain();

      // Assert
      expect(logError).toHaveBeenCalledWith({ count: 1 }, expect.stringContaining('acknowledged changes dropped'));
      expect(seenIn(sut.snapshot('meta_metrics'))).toEqual([5]);
    });

    it('still answers 503 beyond capacity', async () => {
      // Arrange
      store.hold();
      for (const n of [1, 2, 3, 4]) await sut.submit('meta_metrics', append(n));

      // Act
      const act = () => sut.submit('meta_metrics', append(5));

      // Assert
      expect(act).toThrow(UnavailableError);
      expect(sut.counters).toMatchObject({ accepted: 4, rejected: 1 });
    });
  });

  describe('onModuleDestroy', () => {
    it('stops taking documents, writes what was accepted and closes the store', async () => {
      // Arrange
      sut = makeQueue({ INGEST_ACK: 'enqueue' });
      await sut.open('meta_metrics', FALLBACK, isDoc);
      const close = jest.spyOn(store, 'close');
      await sut.submit('meta_metrics', append(1));

      // Act
      await sut.onModuleDestroy();

      // Assert
      expect(storedSeen(backend)).toEqual([1]);
      expect(close).toHaveBeenCalled();
      expect(() => sut.submit('meta_metrics', append(2))).toThrow(UnavailableError);
    });
  });
});
