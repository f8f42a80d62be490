import { Injectable, OnModuleInit } from '@nestjs/common';
import { AgentFileCache } from '../state/agent-file.cache.js';
import { IngestQueue, Snapshot } from '../telemetry/ingest.queue.js';
import { applyMetaDocument, defaultMetaDocument, reviveStoredDocument } from './meta-document.js';
import { assertMetaDocument, isMetaDocument } from './meta-metrics.schema.js';

@Injectable()
export class MetaService implements OnModuleInit {
  private rendered?: { snapshot: Snapshot; at: number; bytes: Buffer };

  constructor(
    private readonly ingest: IngestQueue,
    private readonly files: AgentFileCache,
  ) {}

  async onModuleInit(): Promise<void> {
    const pause = this.files.get('guardianPause');
    const fallback = () => defaultMetaDocument(new Date(), pause.status === 'good' ? pause.value : undefined);
    // Capped: partial documents merge into it, so it can grow (DOCUMENT_MAX_BYTES).
    await this.ingest.open('meta_metrics', fallback, isMetaDocument, reviveStoredDocument, { capped: true });
  }

  current(): Snapshot {
    return this.ingest.snapshot('meta_metrics');
  }

  /** Seconds since the current document was applied (its `cache_timestamp`). */
  ageSeconds(now = Date.now(), snapshot = this.current()): number {
    const appliedAt = Date.parse(String(snapshot.value.cache_timestamp));
    return Number.isNaN(appliedAt) ? 0 : Math.max(0, now - appliedAt) / 1000;
  }

  /**
   * The document as served: `age_seconds` since it was applied, then the bytes serialized at commit.
   * Built at most once per millisecond per document: under load, requests in the same millisecond
   * share one buffer instead of each copying 6 KB (README, "Benchmarks").
   */
  render(snapshot: Snapshot, now = Date.now()): Buffer {
    const last = this.rendered;
    if (last !== undefined && last.snapshot === snapshot && last.at === now) return last.bytes;
    const bytes = Buffer.concat([Buffer.from(`{"age_seconds":${this.ageSeconds(now, snapshot)},`), snapshot.bytes.subarray(1)]);
    this.rendered = { snapshot, at: now, bytes };
    return bytes;
  }

  /** Validates and applies a posted document; resolves once it is acknowledged (durable by default). */
  async accept(body: unknown): Promise<{ status: 'ok'; timestamp: string }> {
    assertMetaDocument(body);
    const appliedAt = new Date();
    await this.ingest.submit('meta_metrics', (current) => applyMetaDocument(current, body, appliedAt));
    return { status: 'ok', timestamp: appliedAt.toISOString() };
  }

  performance(): Record<string, unknown> {
    return this.files.read(['performance']) ?? { decisions: [], last_update: null };
  }

  regime(): Record<string, unknown> {
    return this.files.read(['regime']) ?? { regime: 'UNKNOWN', timestamp: new Date().toISOString() };
  }
}
