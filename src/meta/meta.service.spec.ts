import { loadConfig } from '../config/app.config.js';
import { ShutdownState } from '../common/shutdown.state.js';
import type { AgentFileCache } from '../state/agent-file.cache.js';
import { InMemoryStateStore } from '../state/in-memory.state.store.js';
import { IngestQueue } from '../telemetry/ingest.queue.js';
import { MetaService } from './meta.service.js';

const agent = (pnl: number) => ({ pnl_7d: pnl, sharpe_30d: 1, winrate_30d: 0.5, max_dd_30d: 2 });

describe('MetaService.render', () => {
  let sut: MetaService;

  beforeEach(async () => {
    const ingest = new IngestQueue(new InMemoryStateStore(), loadConfig({ LOG_LEVEL: 'silent' }), new ShutdownState());
    sut = new MetaService(ingest, { get: () => ({ status: 'missing' }) } as unknown as AgentFileCache);
    await sut.onModuleInit();
    await sut.accept({ per_agent: { alpha: agent(1) } });
  });

  it('serves age_seconds first, then the committed document', () => {
    // Arrange
    const snapshot = sut.current();
    const appliedAt = Date.parse(String(snapshot.value.cache_timestamp));

    // Act
    const served = JSON.parse(sut.render(snapshot, appliedAt + 2500).toString()) as Record<string, unknown>;

    // Assert
    expect(Object.keys(served)[0]).toBe('age_seconds');
    expect(served.age_seconds).toBe(2.5);
    expect(served).toMatchObject({ per_agent: { alpha: agent(1) } });
  });

  it('builds the bytes once per millisecond: requests in the same millisecond share them', () => {
    // Arrange
    const snapshot = sut.current();
    const now = Date.now();

    // Act
    const first = sut.render(snapshot, now);
    const second = sut.render(snapshot, now);
    const later = sut.render(snapshot, now + 1);

    // Assert
    expect(second).toBe(first);
    expect(later).not.toBe(first);
    expect(JSON.parse(later.toString()).age_seconds).toBeCloseTo(JSON.parse(first.toString()).age_seconds + 0.001, 6);
  });

  it('never serves the previous document from the shared bytes once a new one is committed', async () => {
    // Arrange
    const now = Date.now();
    const before = sut.render(sut.current(), now);

    // Act
    await sut.accept({ per_agent: { beta: agent(2) } });
    const after = sut.render(sut.current(), now);

    // Assert
    expect(after).not.toBe(before);
    expect(JSON.parse(after.toString()).per_agent).toEqual({ beta: agent(2) });
  });
});
