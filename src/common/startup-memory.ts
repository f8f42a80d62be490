import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How long after listening the service gives back start-up's memory: start-up has settled by then. */
export const STARTUP_SETTLE_MS = 500;

/** The young generation's resident size, in bytes. */
export function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
}

type CollectGarbage = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Gives back the young generation start-up grew and no longer uses (~10 MB of the idle RSS here).
 *
 * Start-up allocates tens of megabytes in under a second, so V8 grows the young generation towards
 * its maximum (`--max-semi-space-size`) and keeps it. V8's memory reducer would shrink it once the
 * process is idle, but it judges the allocation rate from samples taken at collections, and an idle
 * service collects nothing: its last samples are start-up's, so it keeps deciding the rate is high.
 * One collection of V8's "last resort" kind (a full one that also shrinks the young generation and
 * releases its pages) does it instead, once; under load the young generation grows back as needed.
 *
 * `gc` comes from a fresh context created while `--expose-gc` is set, and the flag is turned off
 * again at once, so neither the service's global scope nor any later context or worker has it.
 * Blocks the thread for the collection (tens of ms); returns, for the log, the young generation's
 * resident size before and after (MB) and how long it took.
 */
export function releaseStartupMemory(): { youngGenerationMb: { before: number; after: number }; ms: number } {
  const started = performance.now();
  const before = youngGenerationBytes();
  setFlagsFromString('--expose-gc');
  let collect: CollectGarbage;
  try {
    collect = runInNewContext('gc') as CollectGarbage;
  } finally {
    // Contexts and worker threads created from now on would get a global `gc` too.
    setFlagsFromString('--no-expose-gc');
  }
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return {
    youngGenerationMb: { before: megabytes(before), after: megabytes(youngGenerationBytes()) },
    ms: Math.round(performance.now() - started),
  };
}

const megabytes = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
