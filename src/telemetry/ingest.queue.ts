import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { DomainError, UnavailableError } from '../common/domain.error.js';
import { ShutdownState } from '../common/shutdown.state.js';
import { AppConfig } from '../config/app.config.js';
import { StateKey, StateRepository } from '../state/state.repository.js';

export type Document = Record<string, unknown>;
export type Reducer = (previous: Document) => Document;

/** A document as readers get it: serialized once, when it changed. */
export interface Snapshot {
  readonly value: Document;
  readonly json: string;
  /** `json` as UTF-8 bytes: sent as is, a socket write without re-encoding 6 KB per request. */
  readonly bytes: Buffer;
  readonly etag: string;
}

interface Channel {
  /** What is on disk (durable mode serves this). */
  committed: Snapshot;
  /** `committed` with every queued reducer applied, in arrival order. */
  applied: Document;
  /** What readers see: `committed` in durable mode, `applied` in enqueue mode. */
  visible: Snapshot;
  fallback: () => Document;
  isValid: (value: unknown) => value is Document;
  /** Completes a stored document written by someone else (e.g. adds a missing key). */
  revive: (stored: Document) => Document;
  /** `committed` was read from or written to the store, rather than being the fallback. */
  stored: boolean;
  /** The store lacks `committed`, which it should hold: another writer's bad file was moved aside and writing ours back failed (retried). */
  missing: boolean;
  /** Its serialized size is capped at DOCUMENT_MAX_BYTES (changes merge into it, so it can grow). */
  capped: boolean;
}

interface Pending {
  key: StateKey;
  reduce: Reducer;
  settle?: { resolve: (s: Snapshot) => void; reject: (e: Error) => void };
}

const WRITE_RETRY_MS = 1000;

/**
 * The single writer of our state. Every change is a reducer queued in arrival order and applied
 * by one loop; a flush writes each changed document once for everything queued since the last
 * flush (group commit). In durable mode a submit resolves only once its document (or a newer one)
 * is on disk; the queue is bounded, and a full queue answers 503 rather than dropping anything.
 */
@Injectable()
export class IngestQueue implements OnModuleDestroy {
  private readonly logger = new Logger(IngestQueue.name);
  private readonly channels = new Map<StateKey, Channel>();
  private waiting: Pending[] = [];
  private inFlight = 0;
  private flushing: Promise<void> | undefined;
  private readonly reloads = new Set<StateKey>();
  private readonly listeners = new Set<(key: StateKey, snapshot: Snapshot) => void>();
  private readonly flushListeners = new Set<(seconds: number, documents: number) => void>();
  private unwatch: (() => void) | undefined;
  /** Per document: why its last write failed, until a write of it succeeds (or recheck() clears all). */
  private readonly writeErrors = new Map<StateKey, Error>();

  /**
   * accepted: acknowledged with a 2xx. rejected: refused before being queued (queue full, shutting
   * down; in enqueue mode also writes failing or too large). failed: refused after being queued
   * (their write failed, too large, not serializable). writeFailures: failed write attempts.
   * quarantined: stored documents moved aside as unreadable.
   */
  readonly counters = { accepted: 0, rejected: 0, failed: 0, writeFailures: 0, quarantined: 0 };

  constructor(
    private readonly repository: StateRepository,
    private readonly config: AppConfig,
    private readonly shutdown: ShutdownState,
  ) {}

  get capacity(): number {
    return this.config.ingestQueueCapacity;
  }

  /** Documents accepted but not yet acknowledged durable (waiting plus being written). */
  get depth(): number {
    return this.waiting.length + this.inFlight;
  }

  /**
   * Every document whose last write failed (disk full, I/O error), with why, while no write of it
   * has succeeded since. Per document: a small atlas update that fits on a nearly full disk must not
   * hide that the meta-metrics document no longer does.
   */
  get failedWrites(): ReadonlyMap<StateKey, Error> {
    return this.writeErrors;
  }

  /**
   * Loads a document from the repository (or its fallback) and starts serving it. `capped`: a
   * change that would make it larger than DOCUMENT_MAX_BYTES is refused with a 413.
   */
  async open(
    key: StateKey,
    fallback: () => Document,
    isValid: (value: unknown) => value is Document,
    revive: (stored: Document) => Document = (stored) => stored,
    { capped = false }: { capped?: boolean } = {},
  ): Promise<void> {
    if (this.channels.size === 0) {
      await this.repository.open();
      this.unwatch = this.repository.watch((changed) => this.reloadLater(changed));
    }
    const value = await this.loadValid(key, isValid);
    const committed = snapshotOf(value ? revive(value) : fallback());
    this.channels.set(key, { committed, applied: committed.value, visible: committed, fallback, isValid, revive, stored: value !== undefined, missing: false, capped });
    if (capped && committed.bytes.length > this.config.documentMaxBytes) {
      // Served as it is; any change that leaves it this large gets a 413, until a smaller whole document replaces it.
      this.logger.warn({ key, bytes: committed.bytes.length, limit: this.config.documentMaxBytes }, 'the stored document is larger than DOCUMENT_MAX_BYTES');
    }
  }

  snapshot(key: StateKey): Snapshot {
    return this.channel(key).visible;
  }

  onChange(listener: (key: StateKey, snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after every flush with its duration and how many documents it covered. */
  onFlushed(listener: (seconds: number, documents: number) => void): () => void {
    this.flushListeners.add(listener);
    return () => this.flushListeners.delete(listener);
  }

  /** Ready to take documents: not shutting down, room in the queue, the last write succeeded. */
  get accepting(): boolean {
    return !this.shutdown.shuttingDown && this.depth < this.capacity && this.writeErrors.size === 0;
  }

  /**
   * Queues a change. The reducer runs at once, in arrival order, on the latest applied document;
   * if it throws (a domain error such as a 400), nothing is queued. Resolves with the snapshot
   * readers will see once acknowledged (durable mode: on disk).
   */
  submit(key: StateKey, reduce: Reducer): Promise<Snapshot> {
    if (this.shutdown.shuttingDown) {
      this.counters.rejected++;
      throw new UnavailableError('shutting down: not accepting documents', 5);
    }
    if (this.depth >= this.capacity) {
      this.counters.rejected++;
      throw new UnavailableError('ingest queue is full; retry later', 1);
    }
    const channel = this.channel(key);
    if (this.config.ingestAck === 'enqueue') {
      // Acknowledged before it is written: while this document's writes fail, a 200 would promise
      // what the disk cannot keep. The retry loop (or recheck()) clears the error once a write works.
      if (this.writeErrors.has(key)) {
        this.counters.rejected++;
        throw new UnavailableError('could not store the document (storage unavailable or full); retry later', 5);
      }
      // Serialized before anything changes: a document JSON cannot represent, or one grown past
      // DOCUMENT_MAX_BYTES, is refused here.
      let next: Snapshot;
      try {
        next = this.withinLimit(channel, snapshotOf(reduce(channel.applied)));
      } catch (error) {
        if (error instanceof DomainError && error.code === 413) this.counters.rejected++;
        throw error;
      }
      channel.applied = next.value;
      this.waiting.push({ key, reduce });
      this.counters.accepted++;
      this.publish(key, channel, next);
      this.kick();
      return Promise.resolve(next);
    }
    channel.applied = reduce(channel.applied);
    return new Promise<Snapshot>((resolve, reject) => {
      this.waiting.push({ key, reduce, settle: { resolve, reject } });
      this.kick();
    });
  }

  /** Resolves once everything accepted so far is written (or has failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * After a failed write: checks that the store takes a write as large as our largest document
   * again, and if so clears the failure (readiness recovers without waiting for new traffic).
   */
  async recheck(): Promise<boolean> {
    if (this.writeErrors.size === 0) return true;
    const largest = Math.max(...[...this.channels.values()].map((c) => Buffer.byteLength(c.committed.json)));
    try {
      await this.repository.probe(largest);
      // A document with changes still waiting (enqueue mode retries them every second) stays failed
      // until a real write of it succeeds: the probe file is not that write, nor of its size.
      // Nor one whose committed document the store lacks (a write-back that failed is retried by itself).
      for (const key of [...this.writeErrors.keys()]) {
        if (!this.waiting.some((p) => p.key === key) && !this.channel(key).missing) this.writeErrors.delete(key);
      }
      return this.writeErrors.size === 0;
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.shutdown.begin();
    await this.drain();
    this.unwatch?.();
    await this.repository.close();
  }

  private channel(key: StateKey): Channel {
    const channel = this.channels.get(key);
    if (!channel) throw new Error(`state channel ${key} is not open`);
    return channel;
  }

  private kick(): void {
    this.flushing ??= this.flushLoop()
      .catch((error: unknown) => this.logger.error({ err: error }, 'ingest loop failed; will retry on the next document'))
      .finally(() => {
        this.flushing = undefined;
        if (this.waiting.length > 0 || this.reloads.size > 0) this.kick();
      });
  }

  private async flushLoop(): Promise<void> {
    while (this.waiting.length > 0 || this.reloads.size > 0) {
      // A save that blocks the event loop: first let it read every request that has arrived, so
      // that one save covers all of them rather than the first alone.
      if (this.repository.savesBlockTheLoop) await nextTurn();
      await this.applyReloads();
      if (this.waiting.length === 0) continue;
      const batch = this.waiting;
      this.waiting = [];
      this.inFlight = batch.length;
      const keys = [...new Set(batch.map((p) => p.key))];
      const failedKeys = new Set<StateKey>();
      const started = performance.now();
      const unserializable = new Map<StateKey, DomainError>();
      const tooLarge = new Map<Pending, DomainError>();
      for (const key of keys) {
        const channel = this.channel(key);
        // Already on disk: changes that arrived while the previous write ran were folded into it.
        // Writing it again cost an fsync and sent live-update clients the same document twice.
        if (channel.applied === channel.committed.value && !channel.missing) continue;
        let next = this.serialize(key, channel);
        // Too large with everything applied: refuse only the changes that make it so. (Enqueue mode
        // refused them one by one as they came; only a larger base from another writer gets here.)
        if (next instanceof DomainError && next.code === 413) next = this.withoutOversized(key, channel, batch, tooLarge);
        if (next instanceof DomainError) {
          unserializable.set(key, next);
          continue;
        }
        try {
          await this.repository.save(key, next.json);
          channel.committed = next;
          channel.stored = true;
          channel.missing = false;
          if (this.config.ingestAck === 'durable') this.publish(key, channel, next);
          this.writeErrors.delete(key);
        } catch (error) {
          failedKeys.add(key);
          this.writeErrors.set(key, error as Error);
          this.counters.writeFailures++;
          this.logger.error({ err: error, key }, 'could not persist document');
        }
      }
      this.inFlight = 0;
      const seconds = (performance.now() - started) / 1000;
      for (const listener of this.flushListeners) listener(seconds, batch.length);
      for (const key of unserializable.keys()) this.refold(key);
      if (this.config.ingestAck === 'enqueue') {
        const retry = batch.filter((p) => failedKeys.has(p.key));
        if (retry.length > 0) {
          this.waiting = [...retry, ...this.waiting];
          await sleep(WRITE_RETRY_MS);
        }
        if (tooLarge.size > 0) {
          // Acknowledged already: only a document another writer stored meanwhile can have made them too large.
          this.counters.failed += tooLarge.size;
          this.logger.error({ count: tooLarge.size }, 'acknowledged changes dropped: on the document another writer stored, they exceed DOCUMENT_MAX_BYTES');
          // Readers saw them: show what is kept.
          for (const key of new Set([...tooLarge.keys()].map((p) => p.key))) this.publish(key, this.channel(key), snapshotOf(this.channel(key).applied));
        }
        continue;
      }
      for (const pending of batch) {
        const refused = tooLarge.get(pending) ?? unserializable.get(pending.key);
        if (refused) {
          this.counters.failed++;
          pending.settle?.reject(refused);
        } else if (failedKeys.has(pending.key)) {
          this.counters.failed++;
          pending.settle?.reject(new UnavailableError('could not store the document (storage unavailable or full); retry later', 5));
        } else {
          this.counters.accepted++;
          pending.settle?.resolve(this.channel(pending.key).committed);
        }
      }
      for (const key of failedKeys) this.refold(key);
    }
  }

  /**
   * The snapshot to write, or the error its batch is refused with: a 413 when the document would
   * grow past DOCUMENT_MAX_BYTES (partial documents merge into it, so a stream of them could grow it
   * until it no longer serializes; the caller then refuses only the changes that cross it), a 500
   * when it cannot be serialized (JSON nested past the stack, a BigInt; the body parser's limits keep
   * request bodies from ever getting here), and that batch is dropped, not retried forever.
   */
  private serialize(key: StateKey, channel: Channel): Snapshot | DomainError {
    try {
      return this.withinLimit(channel, snapshotOf(channel.applied));
    } catch (error) {
      if (error instanceof DomainError) return error;
      this.logger.error({ err: error, key }, 'could not serialize the document; dropping the changes queued with it');
      return new DomainError('the document could not be serialized', 500);
    }
  }

  private withinLimit(channel: Channel, snapshot: Snapshot): Snapshot {
    const limit = this.config.documentMaxBytes;
    if (!channel.capped || snapshot.bytes.length <= limit) return snapshot;
    throw new DomainError(`the change would make the stored document ${snapshot.bytes.length} bytes, over DOCUMENT_MAX_BYTES (${limit}); nothing changed`, 413);
  }

  /**
   * The batch's changes to `key` applied one at a time on the committed document, each checked
   * against the cap (serializing per change, on this rare path only): those that would take it over
   * are left out and recorded in `refused`. The rest are written; what is still queued is applied
   * on top again.
   */
  private withoutOversized(key: StateKey, channel: Channel, batch: Pending[], refused: Map<Pending, DomainError>): Snapshot {
    let doc = channel.committed.value;
    let last = channel.committed;
    for (const pending of batch) {
      if (pending.key !== key) continue;
      try {
        last = this.withinLimit(channel, snapshotOf(pending.reduce(doc)));
        doc = last.value;
      } catch (error) {
        refused.set(pending, error instanceof DomainError ? error : new DomainError('the document could not be serialized', 500));
      }
    }
    this.refold(key, doc);
    return last;
  }

  /**
   * Rebuilds `applied` from what is committed (or `base`) plus what is still queued. A queued
   * change that no longer applies (its reducer throws on the new base) is refused with its own error.
   */
  private refold(key: StateKey, base?: Document): void {
    const channel = this.channel(key);
    let doc = base ?? channel.committed.value;
    this.waiting = this.waiting.filter((pending) => {
      if (pending.key !== key) return true;
      try {
        doc = pending.reduce(doc);
        return true;
      } catch (error) {
        pending.settle?.reject(error as Error);
        return false;
      }
    });
    channel.applied = doc;
  }

  private reloadLater(key: StateKey): void {
    this.reloads.add(key);
    this.kick();
  }

  /** Takes in documents changed by another writer (a replica sharing the store). */
  private async applyReloads(): Promise<void> {
    for (const key of [...this.reloads]) {
      this.reloads.delete(key);
      const channel = this.channels.get(key);
      if (!channel) continue;
      try {
        const value = await this.loadValid(key, channel.isValid);
        if (value === undefined) {
          await this.restore(key, channel);
          continue;
        }
        channel.committed = snapshotOf(channel.revive(value));
        channel.stored = true;
        channel.missing = false;
        this.refold(key);
      } catch (error) {
        this.logger.error({ err: error, key }, 'could not take in a change made by another writer; keeping ours');
        continue;
      }
      this.publish(key, channel, this.config.ingestAck === 'durable' ? channel.committed : snapshotOf(channel.applied));
    }
  }

  /**
   * What another writer left in the store was unreadable (a half-written file, say) or broke the
   * rules, and has been moved aside: puts the committed document back, or the store would hold no
   * copy of it and a restart would serve the fallback.
   */
  private async restore(key: StateKey, channel: Channel): Promise<void> {
    if (!channel.stored) {
      // Only the fallback, never posted: writing it would hide what the fallback reads at the next
      // start (an operator's Guardian pause). The bad file stays moved aside; the store holds nothing.
      this.logger.warn({ key }, 'a change made elsewhere was unreadable and is moved aside; no document of ours to store again');
      return;
    }
    try {
      await this.repository.save(key, channel.committed.json);
      channel.missing = false;
      this.writeErrors.delete(key);
      this.logger.warn({ key }, 'a change made elsewhere was unreadable and is moved aside; the committed document is stored again');
    } catch (error) {
      channel.missing = true;
      this.writeErrors.set(key, error as Error);
      this.counters.writeFailures++;
      this.logger.error({ err: error, key }, 'could not store the committed document again after an unreadable change; retrying');
      // Through the reload path, so the retry is serialized with every other write of the document.
      setTimeout(() => this.reloadLater(key), WRITE_RETRY_MS).unref();
    }
  }

  private async loadValid(key: StateKey, isValid: (value: unknown) => value is Document): Promise<Document | undefined> {
    const loaded = await this.repository.load(key);
    if (loaded.quarantinedTo) this.counters.quarantined++;
    if (loaded.value === undefined) return undefined;
    if (isValid(loaded.value)) return loaded.value;
    if (await this.repository.quarantine(key, 'does not match the document rules')) this.counters.quarantined++;
    return undefined;
  }

  private publish(key: StateKey, channel: Channel, snapshot: Snapshot): void {
    channel.visible = snapshot;
    for (const listener of this.listeners) listener(key, snapshot);
  }
}

export function snapshotOf(value: Document): Snapshot {
  const json = JSON.stringify(value);
  const bytes = Buffer.from(json);
  return { value, json, bytes, etag: `W/"${createHash('sha1').update(bytes).digest('base64url')}"` };
}
