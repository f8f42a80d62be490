import * as fs from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

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
 * takes when it stalls) but spares the thread-pool round trips and wake-ups (README, "Storage").
 */
export type WriteMode = 'threadpool' | 'inline';

/** The calls an atomic write makes; each returns its result or a promise of it. */
interface FileCalls {
  open(path: string, flags: string, mode?: number): number | Promise<number>;
  write(fd: number, data: Buffer, offset: number, length: number, position: number): number | Promise<number>;
  fsync(fd: number): void | Promise<void>;
  fstat(fd: number): Stats | Promise<Stats>;
  close(fd: number): void | Promise<void>;
  rename(from: string, to: string): void | Promise<void>;
  unlink(path: string): void | Promise<void>;
}

const write = promisify(fs.write);
const CALLS: Record<WriteMode, FileCalls> = {
  threadpool: {
    open: promisify(fs.open),
    write: async (fd, data, offset, length, position) => (await write(fd, data, offset, length, position)).bytesWritten,
    fsync: promisify(fs.fsync),
    fstat: promisify(fs.fstat),
    close: promisify(fs.close),
    rename: promisify(fs.rename),
    unlink: promisify(fs.unlink),
  },
  inline: {
    open: fs.openSync,
    write: fs.writeSync,
    fsync: fs.fsyncSync,
    fstat: fs.fstatSync,
    close: fs.closeSync,
    rename: fs.renameSync,
    unlink: fs.unlinkSync,
  },
};

/**
 * Replaces `target` with `data` so that a crash or power loss leaves either the old file or the new
 * one, never a mix: write a temp file in the same directory (checking every byte landed), fsync it,
 * rename it over the target, fsync the directory. On any failure (ENOSPC, EDQUOT, a short write)
 * the temp file is removed and the target is untouched. `beforeRename` sees the new file's stats
 * (a rename keeps inode, mtime and size), so a watcher can tell this write from others'.
 * `directory`, an open descriptor of the target's directory, saves opening it on every write.
 */
export async function writeFileAtomic(
  target: string,
  data: Buffer,
  options: { beforeRename?: (written: Stats) => void; directory?: number; mode?: WriteMode } = {},
): Promise<void> {
  const calls = CALLS[options.mode ?? 'threadpool'];
  const temp = join(dirname(target), `${tempPrefix(target)}${process.pid}-${++sequence}`);
  const fd = await calls.open(temp, 'wx', 0o644);
  // Never closed twice: a descriptor number is reused by the next open, possibly another file's.
  let open = true;
  try {
    let offset = 0;
    while (offset < data.length) {
      const written = await calls.write(fd, data, offset, data.length - offset, offset);
      if (written <= 0) throw new ShortWriteError(target, offset, data.length);
      offset += written;
    }
    await calls.fsync(fd);
    const written = await calls.fstat(fd);
    if (written.size !== data.length) throw new ShortWriteError(target, written.size, data.length);
    open = false;
    await calls.close(fd);
    options.beforeRename?.(written);
    await calls.rename(temp, target);
  } catch (error) {
    if (open) await quietly(() => calls.close(fd));
    await quietly(() => calls.unlink(temp));
    throw error;
  }
  if (options.directory !== undefined) await calls.fsync(options.directory);
  else await syncDirectory(dirname(target), calls);
}

/** Makes a rename in `dir` durable. */
async function syncDirectory(dir: string, calls: FileCalls): Promise<void> {
  const fd = await calls.open(dir, 'r');
  try {
    await calls.fsync(fd);
  } finally {
    await calls.close(fd);
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
