/** The documents this service owns and persists. */
export type StateKey = 'meta_metrics' | 'atlas';

export interface LoadResult {
  /** The stored document, or `undefined` when nothing (usable) is stored. */
  value?: unknown;
  /** Where an unreadable stored document was moved aside, if it was. */
  quarantinedTo?: string;
}

/**
 * The port for our own state. Adapters: a JSON file per key (the embedded default) and memory
 * (tests); a networked one (Redis, shared by replicas) fits the same shape: every method is async,
 * documents travel as serialized JSON, and `watch` reports changes made by someone else.
 */
export abstract class StateRepository {
  /** Prepares storage and recovers from a crash (e.g. removes leftover temp files). */
  abstract open(): Promise<void>;

  /** Reads a document back. A stored value that cannot be parsed is quarantined, not thrown. */
  abstract load(key: StateKey): Promise<LoadResult>;

  /** Durably stores the serialized document; resolves only once it would survive a crash. */
  abstract save(key: StateKey, json: string): Promise<void>;

  /** Moves a stored document that parsed but is unusable out of the way; returns where to. */
  abstract quarantine(key: StateKey, reason: string): Promise<string | undefined>;

  /** Calls `listener` when a document changes by a writer other than this instance. */
  abstract watch(listener: (key: StateKey) => void): () => void;

  /** Checks that a write of `bytes` could succeed now (readiness); throws if not. */
  abstract probe(bytes: number): Promise<void>;

  abstract close(): Promise<void>;

  /**
   * True when `save` makes its calls on the event loop's thread (`STATE_WRITES=inline`): the ingest
   * queue then lets the loop read every waiting request first, so one save covers them all.
   */
  get savesBlockTheLoop(): boolean {
    return false;
  }
}
