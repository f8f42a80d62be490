import { releaseStartupMemory, youngGenerationBytes } from './startup-memory.js';

describe('releaseStartupMemory', () => {
  it('shrinks a young generation that a burst of allocation grew, and reports both sizes', () => {
    // Arrange: short-lived garbage, as start-up makes, grows the young generation.
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += new Array(16).fill(i).length;
    const grown = youngGenerationBytes();

    // Act
    const sut = releaseStartupMemory();

    // Assert
    expect(keep).toBe(3_200_000);
    expect(grown).toBeGreaterThan(2 * 2 ** 20);
    expect(sut.beforeBytes).toBeGreaterThanOrEqual(grown);
    expect(sut.afterBytes).toBeLessThan(sut.beforeBytes / 2);
    expect(youngGenerationBytes()).toBe(sut.afterBytes);
  });

  it('leaves the global scope without a gc function', () => {
    // Act
    releaseStartupMemory();

    // Assert
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
