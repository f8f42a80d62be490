import { Injectable, OnModuleInit } from '@nestjs/common';
import { InvalidDocumentError } from '../common/domain.error.js';
import { isPlainObject } from '../common/lenient-json.js';
import { Document, IngestQueue } from './ingest.queue.js';
import { assertAtlasUpdate } from './atlas.schema.js';

/** Payloads without a `type` come from the atlas bridge. */
export const BRIDGE_TYPE = 'bridge';
/** Distinct `type` slots kept; the trader and bridge use six. */
export const MAX_ATLAS_TYPES = 64;

/**
 * Atlas updates (CONTRACT.md FIX 1): the latest payload per `type`, in their own store and file,
 * never touching the meta-metrics document. Served as
 * `{"updated_at", "latest": {"<type>": {"received_at", "payload"}}}`.
 */
@Injectable()
export class AtlasService implements OnModuleInit {
  constructor(private readonly ingest: IngestQueue) {}

  async onModuleInit(): Promise<void> {
    await this.ingest.open('atlas', () => ({ updated_at: null, latest: {} }), isAtlasState);
  }

  state(): Buffer {
    return this.ingest.snapshot('atlas').bytes;
  }

  async accept(body: unknown): Promise<{ status: 'ok'; timestamp: string }> {
    assertAtlasUpdate(body);
    const type = typeof body.type === 'string' ? body.type : BRIDGE_TYPE;
    const receivedAt = new Date().toISOString();
    await this.ingest.submit('atlas', (current) => {
      const latest = current.latest as Record<string, unknown>;
      // Own keys only: `in` also saw inherited names (`valueOf`, `constructor`), which slipped past the limit.
      if (!Object.hasOwn(latest, type) && Object.keys(latest).length >= MAX_ATLAS_TYPES) {
        throw new InvalidDocumentError(`too many distinct atlas update types (limit ${MAX_ATLAS_TYPES})`);
      }
      return { updated_at: receivedAt, latest: { ...latest, [type]: { received_at: receivedAt, payload: body } } };
    });
    return { status: 'ok', timestamp: receivedAt };
  }
}

function isAtlasState(value: unknown): value is Document {
  return isPlainObject(value) && isPlainObject(value.latest);
}
