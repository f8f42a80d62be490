import { releaseStartupMemory, youngGenerationBytes } from './startup-memory.js';

describe('releaseStartupMemory', () => {
  it('shrinks a young generation that a burst of allocation grew, and reports both sizes in MB', () => {
    // Arrange: short-lived garbage, as start-up makes, grows the young generation.
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += new Array(16).fill(i).length;
    const grownMb = youngGenerationBytes() / 2 ** 20;

    // Act
    const sut = releaseStartupMemory();

    // Assert
    expect(keep).toBe(3_200_000);
    expect(grownMb).toBeGreaterThan(2);
    expect(sut.youngGenerationMb.before).toBeCloseTo(grownMb, 0);
    expect(sut.youngGenerationMb.after).toBeLessThan(sut.youngGenerationMb.before / 2);
    expect(sut.youngGenerationMb.after).toBeCloseTo(youngGenerationBytes() / 2 ** 20, 0);
  });

  it('leaves the global scope without a gc function', () => {
    // Act
    releaseStartupMemory();

    // Assert
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
