import { Logger } from '@nestjs/common';
import { watchFile, unwatchFile, type Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tempPrefix, writeFileAtomic, type WriteMode } from './atomic-write.js';
import { LoadResult, StateKey, StateRepository } from './state.repository.js';

/** One JSON file per key, replaced atomically on every save. The embedded default adapter. */
export class JsonFileStateStore extends StateRepository {
  private readonly logger = new Logger(JsonFileStateStore.name);
  /** Identity (inode:mtime:size) of the file as we last wrote or read it, to tell our writes from others'. */
  private readonly ownVersion = new Map<StateKey, string>();
  private readonly watched: [string, (current: Stats) => void][] = [];
  private readonly directories = new Map<string, Promise<FileHandle>>();

  private readonly watchIntervalMs: number;
  private readonly writeMode: WriteMode;

  constructor(
    private readonly paths: Record<StateKey, string>,
    options: { watchIntervalMs?: number; writeMode?: WriteMode } = {},
  ) {
    super();
    this.watchIntervalMs = options.watchIntervalMs ?? 1000;
    this.writeMode = options.writeMode ?? 'threadpool';
  }

  override get savesBlockTheLoop(): boolean {
    return this.writeMode === 'inline';
  }

  override async open(): Promise<void> {
    for (const target of Object.values(this.paths)) {
      await mkdir(dirname(target), { recursive: true });
      const prefix = tempPrefix(target);
      for (const name of await readdir(dirname(target))) {
        if (!name.startsWith(prefix)) continue;
        await unlink(join(dirname(target), name)).catch(() => undefined);
        this.logger.warn({ file: name }, 'removed a temp file left by an interrupted write');
      }
    }
  }

  override async load(key: StateKey): Promise<LoadResult> {
    const target = this.paths[key];
    let text: string;
    try {
      text = await readFile(target, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return {};
      // EISDIR, EACCES...: not a document we can judge. Named, so that a failed start says which file.
      throw Object.assign(new Error(`cannot read the stored document ${target} (${code ?? 'error'})`), { code });
    }
    try {
      const value: unknown = JSON.parse(text);
      await this.remember(key);
      return { value };
    } catch {
      return { quarantinedTo: await this.quarantine(key, 'not valid JSON') };
    }
  }

  override async save(key: StateKey, json: string): Promise<void> {
    const target = this.paths[key];
    await writeFileAtomic(target, Buffer.from(json), {
      beforeRename: (written) => this.ownVersion.set(key, identity(written)),
      directory: await this.directory(dirname(target)),
      mode: this.writeMode,
    });
  }

  override async quarantine(key: StateKey, reason: string): Promise<string | undefined> {
    const target = this.paths[key];
    const aside = `${target}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      await rename(target, aside);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      // A read-only volume, say: the file stays where it is, and the caller serves without it (the
      // next write, once one works, replaces it). Starting matters more than keeping an unreadable copy.
      this.logger.error({ file: basename(target), code, reason }, 'stored document is unreadable and could not be moved aside; left in place');
      return undefined;
    }
    this.logger.error({ file: basename(target), movedTo: basename(aside), reason }, 'stored document is unreadable; moved aside');
    return aside;
  }

  override watch(listener: (key: StateKey) => void): () => void {
    for (const [key, target] of Object.entries(this.paths) as [StateKey, string][]) {
      const onChange = (current: Stats) => {
        if (current.nlink === 0 || identity(current) === this.ownVersion.get(key)) return;
        listener(key);
      };
      watchFile(target, { interval: this.watchIntervalMs, persistent: false }, onChange);
      this.watched.push([target, onChange]);
    }
    const mine = this.watched.slice(-Object.keys(this.paths).length);
    return () => mine.forEach(([target, onChange]) => unwatchFile(target, onChange));
  }

  override async probe(bytes: number): Promise<void> {
    const dirs = new Set(Object.values(this.paths).map((p) => dirname(p)));
    for (const dir of dirs) {
      const probe = join(dir, '.write-probe');
      // On the thread pool whatever the write mode: readiness polls it, and a stalled disk must not freeze the loop for it.
      await writeFileAtomic(probe, Buffer.alloc(Math.max(1, bytes), 0x20));
      await unlink(probe).catch(() => undefined);
    }
  }

  override async close(): Promise<void> {
    this.unwatchAll();
    const handles = [...this.directories.values()];
    this.directories.clear();
    await Promise.all(handles.map(async (h) => (await h).close().catch(() => undefined)));
  }

  /** An open handle on `dir`, kept for the store's life: each save fsyncs it after the rename. */
  private directory(dir: string): Promise<FileHandle> {
    let handle = this.directories.get(dir);
    if (!handle) {
      handle = open(dir, 'r');
      handle.catch(() => this.directories.delete(dir));
      this.directories.set(dir, handle);
    }
    return handle;
  }

  private unwatchAll(): void {
    this.watched.splice(0).forEach(([target, onChange]) => unwatchFile(target, onChange));
  }

  private async remember(key: StateKey): Promise<void> {
    this.ownVersion.set(key, identity(await stat(this.paths[key])));
  }
}

function identity(s: Stats): string {
  return `${s.ino}:${s.mtimeMs}:${s.size}`;
}
