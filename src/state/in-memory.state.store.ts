import { EventEmitter } from 'node:events';
import { LoadResult, StateKey, StateRepository } from './state.repository.js';

/** What several in-memory stores can share, as replicas share a Redis. */
export class InMemoryBackend extends EventEmitter<{ change: [StateKey, InMemoryStateStore] }> {
  readonly documents = new Map<StateKey, string>();
}

/** Keeps documents in memory. For tests, and the reference for what every adapter must do. */
export class InMemoryStateStore extends StateRepository {
  constructor(readonly backend = new InMemoryBackend()) {
    super();
  }

  override async open(): Promise<void> {}

  override async load(key: StateKey): Promise<LoadResult> {
    const json = this.backend.documents.get(key);
    if (json === undefined) return {};
    try {
      return { value: JSON.parse(json) as unknown };
    } catch {
      return { quarantinedTo: await this.quarantine(key, 'not valid JSON') };
    }
  }

  override async save(key: StateKey, json: string): Promise<void> {
    this.backend.documents.set(key, json);
    this.backend.emit('change', key, this);
  }

  override async quarantine(key: StateKey, _reason: string): Promise<string | undefined> {
    const json = this.backend.documents.get(key);
    if (json === undefined) return undefined;
    const aside = `${key}.corrupt-${Date.now()}`;
    this.backend.documents.delete(key);
    this.backend.documents.set(aside as StateKey, json);
    return aside;
  }

  override watch(listener: (key: StateKey) => void): () => void {
    const onChange = (key: StateKey, writer: InMemoryStateStore) => {
      if (writer !== this) listener(key);
    };
    this.backend.on('change', onChange);
    return () => this.backend.off('change', onChange);
  }

  override async probe(_bytes: number): Promise<void> {}

  override async close(): Promise<void> {}
}
