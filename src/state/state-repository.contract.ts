import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { StateKey, StateRepository } from './state.repository.js';

/** What a spec hands the contract suite: one adapter instance, set up fresh for each test. */
export interface StateRepositoryHarness {
  /** The instance under test. */
  repo: StateRepository;
  /** A second instance over the same storage, as another replica (or process) would hold. */
  peer: StateRepository;
  /** Stores `raw` as the document for `key` behind the adapter's back (a torn or foreign write). */
  corrupt(key: StateKey, raw: string): Promise<void>;
  /** The longest a change by another instance may take to reach a watcher (polling adapters). */
  watchLatencyMs: number;
  /** Removes whatever the harness created (temp dirs). */
  dispose?(): Promise<void> | void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds or `boundMs` has passed; returns whether it held. */
async function eventually(condition: () => boolean, boundMs: number): Promise<boolean> {
  for (const deadline = Date.now() + boundMs; !condition(); await sleep(10)) {
    if (Date.now() > deadline) return false;
  }
  return true;
}

/** What every `StateRepository` adapter must do (see `state.repository.ts`). */
export function describeStateRepositoryContract(
  name: string,
  makeAdapter: () => StateRepositoryHarness | Promise<StateRepositoryHarness>,
): void {
  describe(`${name} (StateRepository contract)`, () => {
    let harness: StateRepositoryHarness;
    let sut: StateRepository;
    const value = (n: number): unknown => ({ seq: n, per_agent: { SmartTrader: { pnl_7d: n * 1.5 } }, note: 'ünïcødé ✓' });
    const doc = (n: number) => JSON.stringify(value(n));

    beforeEach(async () => {
      harness = await makeAdapter();
      sut = harness.repo;
      await sut.open();
      await harness.peer.open();
    });

    afterEach(async () => {
      await sut.close();
      await harness.peer.close();
      await harness.dispose?.();
    });

    it('loads nothing from an empty store', async () => {
      // Act
      const result = await sut.load('meta_metrics');

      // Assert
      expect(result).toEqual({});
    });

    it('loads back what it saved', async () => {
      // Arrange
      await sut.save('meta_metrics', doc(1));

      // Act
      const result = await sut.load('meta_metrics');

      // Assert
      expect(result).toEqual({ value: value(1) });
    });

    it('keeps the latest save', async () => {
      // Arrange
      await sut.save('meta_metrics', doc(1));
      await sut.save('meta_metrics', doc(2));

      // Act
      const result = await sut.load('meta_metrics');

      // Assert
      expect(result.value).toEqual(value(2));
    });

    it('keeps each key separate', async () => {
      // Arrange
      await sut.save('meta_metrics', doc(1));
      await sut.save('atlas', JSON.stringify({ bridge: { brain: 'x' } }));

      // Act
      const [meta, atlas] = await Promise.all([sut.load('meta_metrics'), sut.load('atlas')]);

      // Assert
      expect(meta.value).toEqual(value(1));
      expect(atlas.value).toEqual({ bridge: { brain: 'x' } });
    });

    it('shares what it saved with another instance over the same storage', async () => {
      // Arrange
      await sut.save('atlas', doc(3));

      // Act
      const result = await harness.peer.load('atlas');

      // Assert
      expect(result.value).toEqual(value(3));
    });

    it('quarantines a stored value that cannot be parsed, instead of throwing', async () => {
      // Arrange
      await sut.save('atlas', doc(1));
      await harness.corrupt('meta_metrics', '{"per_agent": {"SmartTrader": {"pnl_7d": 12');

      // Act
      const first = await sut.load('meta_metrics');
      const second = await sut.load('meta_metrics');

      // Assert
      expect(first.value).toBeUndefined();
      expect(first.quarantinedTo).toEqual(expect.any(String));
      expect(second).toEqual({});
      expect((await sut.load('atlas')).value).toEqual(value(1));
    });

    it('quarantines a parsed document on request and then loads nothing', async () => {
      // Arrange
      await sut.save('meta_metrics', JSON.stringify({ per_agent: null }));

      // Act
      const movedTo = await sut.quarantine('meta_metrics', 'does not match the document rules');

      // Assert
      expect(movedTo).toEqual(expect.any(String));
      expect(await sut.load('meta_metrics')).toEqual({});
    });

    it('quarantines nothing when no document is stored', async () => {
      // Act
      const movedTo = await sut.quarantine('meta_metrics', 'nothing there');

      // Assert
      expect(movedTo).toBeUndefined();
    });

    it('tells a watcher about a save made by another instance', async () => {
      // Arrange
      const listener = jest.fn<(key: StateKey) => void>();
      sut.watch(listener);

      // Act
      await harness.peer.save('meta_metrics', doc(7));

      // Assert
      expect(await eventually(() => listener.mock.calls.length > 0, harness.watchLatencyMs * 10)).toBe(true);
      expect(listener).toHaveBeenCalledWith('meta_metrics');
      expect(listener).not.toHaveBeenCalledWith('atlas');
    });

    it("does not tell a watcher about the instance's own saves", async () => {
      // Arrange
      const listener = jest.fn<(key: StateKey) => void>();
      sut.watch(listener);

      // Act
      await sut.save('meta_metrics', doc(1));
      await sleep(harness.watchLatencyMs);
      const callsAfterOwnSave = listener.mock.calls.length;
      await harness.peer.save('meta_metrics', doc(2)); // shows the watcher was listening all along

      // Assert
      expect(callsAfterOwnSave).toBe(0);
      expect(await eventually(() => listener.mock.calls.length > 0, harness.watchLatencyMs * 10)).toBe(true);
      expect(listener.mock.calls).toEqual([['meta_metrics']]);
    });

    it('stops telling a watcher once it unsubscribed', async () => {
      // Arrange
      const listener = jest.fn<(key: StateKey) => void>();
      const unsubscribe = sut.watch(listener);
      unsubscribe();

      // Act
      await harness.peer.save('meta_metrics', doc(1));
      await sleep(harness.watchLatencyMs);

      // Assert
      expect(listener).not.toHaveBeenCalled();
    });

    it('passes a write probe on a healthy store and leaves the stored documents alone', async () => {
      // Arrange
      await sut.save('meta_metrics', doc(1));

      // Act
      const probe = sut.probe(64 * 1024);

      // Assert
      await expect(probe).resolves.toBeUndefined();
      expect(await sut.load('meta_metrics')).toEqual({ value: value(1) });
      expect(await sut.load('atlas')).toEqual({});
    });
  });
}
