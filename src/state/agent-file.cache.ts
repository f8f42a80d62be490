import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnreadableSourceError } from '../common/domain.error.js';
import { isPlainObject, parseLenientJson } from '../common/lenient-json.js';
import { AgentFile, AppConfig } from '../config/app.config.js';

/** What we know of one agent-written file. */
export type AgentFileState =
  | { status: 'missing' }
  | { status: 'good'; value: Record<string, unknown> }
  | { status: 'corrupt'; lastGood?: Record<string, unknown> };

interface Entry {
  path: string;
  /** inode:mtime(ns):size of the copy we last read; unchanged means nothing to do. */
  signature?: string;
  state: AgentFileState;
}

const PARSE_RETRIES = 3;
const PARSE_RETRY_DELAY_MS = 40;

/**
 * Keeps the files the Python agents write (regime, allocations, performance, guardian pause) in
 * memory, so reads never touch the disk. A background refresh re-reads a file only when it
 * changed; a half-written file (the agents' writes are not atomic) is retried briefly, then
 * marked corrupt while its last good copy stays available.
 */
@Injectable()
export class AgentFileCache implements OnModuleInit {
  private readonly logger = new Logger(AgentFileCache.name);
  private readonly entries: Map<AgentFile, Entry>;
  private running: Promise<void> | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.entries = new Map(
      Object.entries(config.agentFiles).map(([file, path]) => [file as AgentFile, { path, state: { status: 'missing' } }]),
    );
  }

  async onModuleInit(): Promise<void> {
    await this.refresh();
    const timer = setInterval(() => void this.refresh(), this.config.fileRefreshMs);
    this.scheduler.addInterval(AgentFileCache.name, timer);
  }

  get(file: AgentFile): AgentFileState {
    return this.entries.get(file)!.state;
  }

  /**
   * The document to serve from a chain of files (one file, or allocations → override): the first
   * file that reads well now; else the first with a last good copy (caught mid-write); else
   * `undefined` (the caller's default) when the files are missing or, for all but the last link,
   * corrupt. Throws only when the last link is corrupt and nothing good was ever read.
   */
  read(chain: AgentFile[]): Record<string, unknown> | undefined {
    const states = chain.map((file) => this.get(file));
    for (const state of states) if (state.status === 'good') return state.value;
    for (const state of states) if (state.status === 'corrupt' && state.lastGood) return state.lastGood;
    if (states.at(-1)?.status === 'corrupt') {
      throw new UnreadableSourceError(`${chain.at(-1)} file is unreadable and no good copy is known`);
    }
    return undefined;
  }

  /** Re-reads every file that changed on disk. Overlapping calls share one run. */
  refresh(): Promise<void> {
    this.running ??= this.refreshAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async refreshAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => this.refreshEntry(entry)));
  }

  private async refreshEntry(entry: Entry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const signature = await signatureOf(entry.path);
      if (signature === undefined) {
        entry.signature = undefined;
        entry.state = { status: 'missing' };
        return;
      }
      if (signature === entry.signature) return;
      const value = await readObject(entry.path);
      if (value !== undefined && signature === (await signatureOf(entry.path))) {
        entry.signature = signature;
        entry.state = { status: 'good', value };
        return;
      }
      if (attempt + 1 >= PARSE_RETRIES) {
        const lastGood = entry.state.status === 'good' ? entry.state.value : entry.state.status === 'corrupt' ? entry.state.lastGood : undefined;
        entry.signature = signature;
        entry.state = { status: 'corrupt', lastGood };
        this.logger.warn({ file: basename(entry.path), servingLastGood: lastGood !== undefined }, 'agent file is unreadable');
        return;
      }
      await sleep(PARSE_RETRY_DELAY_MS);
    }
  }
}

async function signatureOf(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.mtimeNs}:${s.size}`;
  } catch {
    return undefined;
  }
}

/** The file as a JSON object, or `undefined` if it cannot be read as one right now. */
async function readObject(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value = parseLenientJson(await readFile(path, 'utf8'));
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
