import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '../common/domain.error.js';
import { ShutdownState } from '../common/shutdown.state.js';
import { AppConfig } from '../config/app.config.js';
import type { StateKey } from '../state/state.repository.js';
import { IngestQueue } from '../telemetry/ingest.queue.js';
import { MetaService } from './meta.service.js';

/** The SSE event name of each document. */
const EVENT: Record<StateKey, string> = { meta_metrics: 'meta', atlas: 'atlas' };
/** In the order their versions start at boot: meta-metrics first. */
const KEYS: readonly StateKey[] = ['meta_metrics', 'atlas'];
/** Per-stream buffer before a slow reader counts as blocked (about six 10 KB documents). */
const STREAM_BUFFER_BYTES = 64 * 1024;
const RETRY_AFTER_SECONDS = 5;
const EVENT_END = Buffer.from('\n\n');
/** On close, how long ended streams get to flush before they are cut off. */
const CLOSE_WAIT_MS = 1000;

interface Client {
  readonly out: PassThrough;
  /** The socket is full: changes are noted in `pending` and sent, latest version only, on drain. */
  blocked: boolean;
  readonly pending: Set<StateKey>;
}

/**
 * `GET /meta/stream`: Server-Sent Events carrying the meta-metrics document (`event: meta`) and the
 * atlas state (`event: atlas`), each time either changes. Every event is the whole current
 * document, so a reader that falls behind is sent only the latest version of what changed once its
 * socket drains (memory stays bounded, nothing stale is sent).
 *
 * Ids are `<boot>-<n>`: `n` counts changes in this process, and the current version of each
 * document is the `n` of its last change. On connect the documents newer than the client's
 * `Last-Event-ID` are sent (all of them without one, or with an id from another process), older
 * change first, so ids only grow along a stream. A client that has seen id `n` holds every
 * document as of `n`, so on resume it is sent only what changed since.
 *
 * Cheap when nobody listens: a change costs one counter increment until a stream is open.
 */
@Injectable()
export class MetaStreamService implements OnModuleDestroy {
  private readonly logger = new Logger(MetaStreamService.name);
  /** Tells this process's ids from another's (a restart): base-36 start time plus a random suffix. */
  private readonly boot = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  private changes = 0;
  private readonly versions = new Map<StateKey, number>();
  private readonly clients = new Set<Client>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly stopListening: () => void;
  private readonly stopWaitingForShutdown: () => void;

  constructor(
    private readonly ingest: IngestQueue,
    private readonly meta: MetaService,
    private readonly config: AppConfig,
    private readonly shutdown: ShutdownState,
  ) {
    for (const key of KEYS) this.versions.set(key, ++this.changes);
    this.stopListening = ingest.onChange((key) => this.changed(key));
    this.stopWaitingForShutdown = shutdown.onBegin(() => this.closeAll());
  }

  /** Streams open now. */
  get size(): number {
    return this.clients.size;
  }

  /**
   * Opens a stream for a client that last saw `lastEventId` (if any). Throws `UnavailableError`
   * (503 + Retry-After) at the cap or while shutting down. Destroy the stream when the response closes.
   */
  open(lastEventId: string | undefined): Readable {
    if (this.shutdown.shuttingDown) throw new UnavailableError('shutting down: not opening event streams', RETRY_AFTER_SECONDS);
    if (this.clients.size >= this.config.metaStreamMaxClients) {
      throw new UnavailableError(
        `too many open event streams (limit ${this.config.metaStreamMaxClients}); retry later`,
        RETRY_AFTER_SECONDS,
      );
    }
    const client: Client = { out: new PassThrough({ highWaterMark: STREAM_BUFFER_BYTES }), blocked: false, pending: new Set() };
    this.clients.add(client);
    client.out.once('close', () => this.remove(client));
    this.heartbeat ??= setInterval(() => this.beat(), this.config.metaStreamHeartbeatMs).unref();

    client.out.write(`: ${EVENT.meta_metrics} and ${EVENT.atlas} events\n\n`);
    const since = this.resumePoint(lastEventId);
    for (const key of this.byVersion(KEYS)) if (this.versions.get(key)! > since) this.send(client, key);
    return client.out;
  }

  /** Ends every stream (if shutdown has not already), waits briefly for them to flush, cuts off the rest. */
  async onModuleDestroy(): Promise<void> {
    this.stopListening();
    this.stopWaitingForShutdown();
    this.closeAll();
    const closed = [...this.clients].map((client) => new Promise((resolve) => client.out.once('close', resolve)));
    await Promise.race([Promise.all(closed), sleep(CLOSE_WAIT_MS, undefined, { ref: false })]);
    for (const client of this.clients) client.out.destroy();
    clearInterval(this.heartbeat);
  }

  private changed(key: StateKey): void {
    this.versions.set(key, ++this.changes);
    let frame: Buffer | undefined;
    for (const client of this.clients) this.send(client, key, () => (frame ??= this.frame(key)));
  }

  /**
   * Writes the current version of `key`, or notes it for later if the client's socket is full.
   * `frame` lets a change be serialized once for every stream.
   */
  private send(client: Client, key: StateKey, frame = () => this.frame(key)): void {
    if (!client.out.writable) return; // ended for shutdown: a document flushed during the drain is not sent
    if (client.blocked) {
      client.pending.add(key);
      return;
    }
    if (!client.out.write(frame())) {
      client.blocked = true;
      client.out.once('drain', () => this.unblock(client));
    }
  }

  private unblock(client: Client): void {
    client.blocked = false;
    const keys = this.byVersion([...client.pending]);
    client.pending.clear();
    for (const key of keys) this.send(client, key);
  }

  /** One event: the document exactly as its GET route serves it now (serialized JSON has no raw line breaks). */
  private frame(key: StateKey): Buffer {
    const data = key === 'meta_metrics' ? this.meta.render(this.meta.current()) : this.ingest.snapshot(key).bytes;
    return Buffer.concat([Buffer.from(`id: ${this.boot}-${this.versions.get(key)}\nevent: ${EVENT[key]}\ndata: `), data, EVENT_END]);
  }

  /** The change count a `Last-Event-ID` stands for; 0 (send everything) when it is not one of ours. */
  private resumePoint(lastEventId: string | undefined): number {
    const match = /^([0-9a-z]+)-(\d{1,15})$/.exec(lastEventId?.trim() ?? '');
    if (match?.[1] !== this.boot) return 0;
    const seen = Number(match[2]);
    return seen <= this.changes ? seen : 0;
  }

  private byVersion(keys: readonly StateKey[]): StateKey[] {
    return [...keys].sort((a, b) => this.versions.get(a)! - this.versions.get(b)!);
  }

  private beat(): void {
    const line = `: heartbeat ${new Date().toISOString()}\n\n`;
    for (const client of this.clients) if (client.out.writable && !client.blocked) client.out.write(line);
  }

  /** Ends every stream; one whose reader is stuck is cut off rather than waited for. */
  private closeAll(): void {
    if (this.clients.size > 0) this.logger.log({ streams: this.clients.size }, 'closing event streams');
    for (const client of this.clients) {
      if (client.blocked) client.out.destroy();
      else client.out.end();
    }
  }

  private remove(client: Client): void {
    this.clients.delete(client);
    if (this.clients.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }
}
