import type { Stats } from 'node:fs';
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
  options: { beforeRename?: (written: Stats) => void; directory?: FileHandle } = {},
): Promise<void> {
  const temp = join(dirname(target), `${tempPrefix(target)}${process.pid}-${++sequence}`);
  const file = await open(temp, 'wx', 0o644);
  try {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await file.write(data, offset, data.length - offset, offset);
      if (bytesWritten <= 0) throw new ShortWriteError(target, offset, data.length);
      offset += bytesWritten;
    }
    await file.sync();
    const written = await file.stat();
    if (written.size !== data.length) throw new ShortWriteError(target, written.size, data.length);
    await file.close();
    options.beforeRename?.(written);
    await rename(temp, target);
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (options.directory) await options.directory.sync();
  else await syncDirectory(dirname(target));
}

/** Makes a rename in `dir` durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
