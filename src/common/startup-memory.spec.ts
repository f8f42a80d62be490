import { runInNewContext } from 'node:vm';
import { releaseStartupMemory, youngGenerationBytes } from './startup-memory.js';

/** Allocates as start-up does: many objects, some surviving a collection or two, so V8 grows the young generation. */
function allocateLikeStartUp(): void {
  const survivors: number[][] = new Array<number[]>(4096);
  for (let i = 0; i < 200_000; i++) survivors[i % survivors.length] = new Array<number>(16).fill(i);
}

describe('releaseStartupMemory', () => {
  it('shrinks a young generation that a burst of allocation grew, and reports both sizes in MB', () => {
    // Arrange
    allocateLikeStartUp();
    const grownMb = youngGenerationBytes() / 2 ** 20;

    // Act
    const result = releaseStartupMemory();

    // Assert
    expect(grownMb).toBeGreaterThan(4);
    expect(result.youngGenerationMb.before).toBeCloseTo(grownMb, 0);
    expect(result.youngGenerationMb.after).toBeLessThan(result.youngGenerationMb.before / 2);
  });

  it('leaves no gc function behind, neither in the global scope nor in contexts created later', () => {
    // Act
    releaseStartupMemory();

    // Assert
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
