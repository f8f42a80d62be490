import { Ajv } from 'ajv';
import { InvalidDocumentError } from '../common/domain.error.js';
import type { Document } from './ingest.queue.js';

/** An atlas payload: any JSON object; `type`, when present, names a bounded set of slots. */
export const ATLAS_UPDATE_SCHEMA = {
  type: 'object',
  properties: { type: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } },
} as const;

// Not checked against the meta-schema at start-up (see meta-metrics.schema.ts); the spec does it.
const check = new Ajv({ strictNumbers: true, validateSchema: false }).compile(ATLAS_UPDATE_SCHEMA);

export function assertAtlasUpdate(body: unknown): asserts body is Document {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidDocumentError('atlas update must be a JSON object');
  }
  if (!check(body)) {
    throw new InvalidDocumentError('atlas update "type" must be 1-64 characters of letters, digits, "_", ".", ":" or "-"', [
      { path: '/type', message: 'must match ^[A-Za-z0-9_.:-]{1,64}$' },
    ]);
  }
}
