import type { SchemaObject } from '@nestjs/swagger';
import { META_METRICS_SCHEMA } from './meta-metrics.schema.js';

const NUMBER_OR_NULL = { type: ['number', 'null'] };
const TIME = { type: ['string', 'number'], description: 'As the agent wrote it (ISO string or epoch seconds).' };

/** Request and response shapes of the `/meta/*` routes. */
export const META_SCHEMAS: Record<string, SchemaObject> = {
  /** The very schema `POST /meta/metrics` validates with: documented and enforced from one source. */
  MetaMetricsDocument: {
    ...(META_METRICS_SCHEMA as unknown as SchemaObject),
    description:
      'A meta-metrics document as producers post it (CONTRACT.md "The meta-metrics document"). Unknown keys are kept. ' +
      "A document with `per_agent` replaces the current one; one without (the stress runner's partial) is merged into it at the top level.",
  },
  MetaMetrics: {
    description:
      'The current document as served: the last accepted document (or the stale-marked default before any), plus when it was applied.',
    allOf: [
      { $ref: '#/components/schemas/MetaMetricsDocument' },
      {
        type: 'object',
        required: ['age_seconds', 'cache_timestamp'],
        properties: {
          age_seconds: { type: 'number', minimum: 0, description: 'Seconds since the document was applied.' },
          cache_timestamp: { type: 'string', format: 'date-time', description: 'When the document was applied.' },
          stale: { type: 'boolean', description: 'Present (true) on the default document served before any producer posted.' },
        },
      },
    ],
  },
  Performance: {
    type: 'object',
    description:
      'Contents of state/performance_attribution.json as the attribution agent wrote it; `{"decisions":[],"last_update":null}` when absent.',
    properties: {
      decisions: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            agent: { type: 'string' },
            decision: { type: 'string' },
            reasoning: { type: 'string' },
            timestamp: TIME,
            pnl: NUMBER_OR_NULL,
            pnl_attributed: NUMBER_OR_NULL,
          },
        },
      },
      last_update: { type: ['string', 'number', 'null'] },
    },
  },
  Regime: {
    type: 'object',
    description:
      'Contents of runtime/market_regime.json as the regime detector wrote it; `{"regime":"UNKNOWN","timestamp":<now>}` when absent.',
    properties: {
      regime: { type: 'string' },
      timestamp: TIME,
      risk_multiplier: { ...NUMBER_OR_NULL, description: 'Python NaN/Infinity are read as null.' },
      strategy: { type: 'object' },
      description: { type: 'string' },
    },
  },
};

/** How `GET /meta/stream` frames its events (text/event-stream). */
export const META_STREAM_DESCRIPTION = [
  'Server-Sent Events. On connect, the current meta-metrics document (`event: meta`, the body `GET /meta/metrics` would return)',
  'and the current atlas state (`event: atlas`, the body of `GET /atlas/state`), older change first; then one event each time either changes.',
  'Each event has an `id:` of the form `<boot>-<n>`, with `n` increasing within a server process. A client reconnecting with',
  '`Last-Event-ID` gets only the documents that changed after that event; an id from another process (a restart) or an unknown',
  'id gets both documents again. Every event carries the whole current document: a reader that falls behind gets the latest version',
  'of what changed, not every intermediate one. A comment line (`: heartbeat <time>`) is sent every META_STREAM_HEARTBEAT_MS.',
  'Streams end when the service shuts down. Over META_STREAM_MAX_CLIENTS open streams, or while shutting down: 503 with Retry-After.',
].join(' ');
