import { setTimeout as sleep } from 'node:timers/promises';
import { JsonFileStateStore } from '../../src/state/json-file.state.store.js';
import type { StateKey } from '../../src/state/state.repository.js';

/** The JSON-file store with a test-only delay on every save: a slow disk. */
export class SlowStateStore extends JsonFileStateStore {
  saves = 0;

  constructor(
    paths: Record<StateKey, string>,
    private readonly delayMs: number,
  ) {
    super(paths);
  }

  override async save(key: StateKey, json: string): Promise<void> {
    this.saves++;
    await sleep(this.delayMs);
    await super.save(key, json);
  }
}
