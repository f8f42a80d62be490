import { closeSync, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let sequence = 0;

/** Where a target's temporary siblings live: `<name>.tmp-<pid>-<n>`; boot recovery removes leftovers. */
export function tempPrefix(target: string): string {
  return `${basename(target)}.tmp-`;
}

export class ShortWriteError extends Error {
  readonly code = 'ESHORTWRITE';
  constructor(target: string, written: number, expected: number) {
    super(`short write to ${basename(target)}: ${written} of ${expected} bytes`);
  }
}

/**
 * Where the system calls of a write run. `threadpool`: on libuv's thread pool, so the event loop
 * keeps serving requests while the disk works (or stalls). `inline`: on the calling thread, which
 * blocks for the write's fsyncs (about a millisecond on a healthy local disk, as long as the disk
 * takes when it stalls) but spares the thread-pool round trips and wake-ups (README, "Ingest").
 */
export type WriteMode = 'threadpool' | 'inline';

/** The calls an atomic write makes, on a file of type `F`; each returns its result or a promise of it. */
export interface FileCalls<F> {
  open(path: string, flags: string, mode?: number): F | Promise<F>;
  write(file: F, data: Buffer, offset: number, length: number, position: number): number | Promise<number>;
  fsync(file: F): void | Promise<void>;
  fstat(file: F): Stats | Promise<Stats>;
  close(file: F): void | Promise<void>;
  rename(from: string, to: string): void | Promise<void>;
  unlink(path: string): void | Promise<void>;
}

const THREADPOOL: FileCalls<FileHandle> = {
  open: (path, flags, mode) => open(path, flags, mode),
  write: async (file, data, offset, length, position) => (await file.write(data, offset, length, position)).bytesWritten,
  fsync: (file) => file.sync(),
  fstat: (file) => file.stat(),
  close: (file) => file.close(),
  rename,
  unlink,
};

const INLINE: FileCalls<number> = {
  open: openSync,
  write: writeSync,
  fsync: fsyncSync,
  fstat: fstatSync,
  close: closeSync,
  rename: renameSync,
  unlink: unlinkSync,
};

/**
 * Replaces `target` with `data` so that a crash or power loss leaves either the old file or the new
 * one, never a mix: write a temp file in the same directory (checking every byte landed), fsync it,
 * rename it over the target, fsync the directory. On any failure (ENOSPC, EDQUOT, a short write)
 * the temp file is removed and the target is untouched. `beforeRename` sees the new file's stats
 * (a rename keeps inode, mtime and size), so a watcher can tell this write from others'.
 * `directory`, an open handle on the target's directory, saves opening it on every write.
 */
export async function writeFileAtomic(
  target: string,
  data: Buffer,
  options: { beforeRename?: (written: Stats) => void; directory?: FileHandle; mode?: WriteMode } = {},
): Promise<void> {
  if (options.mode === 'inline') await replaceFile(INLINE, target, data, options.beforeRename, options.directory?.fd);
  else await replaceFile(THREADPOOL, target, data, options.beforeRename, options.directory);
}

/** The sequence itself, over any set of calls (exported for its tests). */
export async function replaceFile<F>(
  calls: FileCalls<F>,
  target: string,
  data: Buffer,
  beforeRename: ((written: Stats) => void) | undefined,
  directory: F | undefined,
): Promise<void> {
  const temp = join(dirname(target), `${tempPrefix(target)}${process.pid}-${++sequence}`);
  const file = await calls.open(temp, 'wx', 0o644);
  // Never closed twice: a descriptor number is reused by the next open, possibly another file's.
  let isOpen = true;
  try {
    let offset = 0;
    while (offset < data.length) {
      const written = await calls.write(file, data, offset, data.length - offset, offset);
      if (written <= 0) throw new ShortWriteError(target, offset, data.length);
      offset += written;
    }
    await calls.fsync(file);
    const written = await calls.fstat(file);
    if (written.size !== data.length) throw new ShortWriteError(target, written.size, data.length);
    isOpen = false;
    await calls.close(file);
    beforeRename?.(written);
    await calls.rename(temp, target);
  } catch (error) {
    if (isOpen) await quietly(() => calls.close(file));
    await quietly(() => calls.unlink(temp));
    throw error;
  }
  if (directory !== undefined) await calls.fsync(directory);
  else await syncDirectory(dirname(target), calls);
}

/** Makes a rename in `dir` durable. */
async function syncDirectory<F>(dir: string, calls: FileCalls<F>): Promise<void> {
  const handle = await calls.open(dir, 'r');
  try {
    await calls.fsync(handle);
  } finally {
    await calls.close(handle);
  }
}

/** Runs a clean-up call whose own failure must not hide the error being reported. */
async function quietly(call: () => void | Promise<void>): Promise<void> {
  try {
    await call();
  } catch {
    // the original error is the one that matters
  }
}
