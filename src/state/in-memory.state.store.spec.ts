import { InMemoryBackend, InMemoryStateStore } from './in-memory.state.store.js';
import { describeStateRepositoryContract } from './state-repository.contract.js';

describeStateRepositoryContract('InMemoryStateStore', () => {
  const backend = new InMemoryBackend();
  return {
    repo: new InMemoryStateStore(backend),
    peer: new InMemoryStateStore(backend),
    corrupt: async (key, raw) => {
      backend.documents.set(key, raw);
    },
    watchLatencyMs: 20,
  };
});

describe('InMemoryStateStore', () => {
  it('keeps the quarantined bytes in the backend under the returned name', async () => {
    // Arrange
    const backend = new InMemoryBackend();
    const sut = new InMemoryStateStore(backend);
    backend.documents.set('meta_metrics', '{"torn":');

    // Act
    const { quarantinedTo } = await sut.load('meta_metrics');

    // Assert
    expect(quarantinedTo).toMatch(/^meta_metrics\.corrupt-/);
    expect(backend.documents.get(quarantinedTo as never)).toBe('{"torn":');
    expect(backend.documents.has('meta_metrics')).toBe(false);
  });

  it('stores nothing outside its backend: separate backends do not share', async () => {
    // Arrange
    const sut = new InMemoryStateStore();
    const other = new InMemoryStateStore();
    await other.save('meta_metrics', '{"seq":1}');

    // Act
    const result = await sut.load('meta_metrics');

    // Assert
    expect(result).toEqual({});
  });
});
