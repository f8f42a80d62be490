import { Ajv, type ErrorObject } from 'ajv';
import { InvalidDocumentError } from '../common/domain.error.js';
import type { Document } from '../telemetry/ingest.queue.js';

const finite = { type: 'number' } as const;
const object = { type: 'object' } as const;

const AGENT_NUMBERS = ['pnl_1d', 'pnl_7d', 'sharpe_30d', 'winrate_30d', 'max_dd_30d', 'total_decisions', 'revenue_24h', 'revenue_total'];
const STRATEGY_NUMBERS = ['pnl_1d', 'pnl_7d', 'sharpe_30d', 'winrate_30d', 'max_dd_30d', 'trade_count', 'score'];
const numbers = (names: string[]) => Object.fromEntries(names.map((n) => [n, finite]));

/**
 * The contract's type rules for a meta-metrics document (CONTRACT.md, "The meta-metrics
 * document"): the sections are objects when present, per-agent and per-strategy numbers are
 * finite numbers (never null), `guardian.is_paused` is a boolean, `risk_multiplier` a number.
 * Unknown keys are kept. Compiled once; validating the 6 KB fixture takes microseconds.
 */
export const META_METRICS_SCHEMA = {
  type: 'object',
  properties: {
    timestamp: { type: ['string', 'number'] },
    per_agent: { type: 'object', additionalProperties: { type: 'object', properties: numbers(AGENT_NUMBERS) } },
    per_strategy: { type: 'object', additionalProperties: { type: 'object', properties: numbers(STRATEGY_NUMBERS) } },
    guardian: {
      type: 'object',
      required: ['is_paused'],
      properties: { is_paused: { type: 'boolean' }, drawdown: finite, reason: { type: ['string', 'null'] } },
    },
    breakers: {
      type: 'object',
      properties: { quote_state: { type: 'string' }, trade_state: { type: 'string' } },
    },
    mode: { type: 'string' },
    market_regime: { type: 'object', properties: { regime: { type: 'string' }, risk_multiplier: finite } },
    summary: object,
  },
} as const;

// `validateSchema: false`: checking this constant schema against JSON Schema's meta-schema compiled the
// meta-schema at every start (about a tenth of start-up); the spec checks it once instead.
const ajv = new Ajv({ strictNumbers: true, allErrors: false, allowUnionTypes: true, validateSchema: false });
const check = ajv.compile(META_METRICS_SCHEMA);

/** Throws `InvalidDocumentError` (400) unless `body` follows the contract's type rules. */
export function assertMetaDocument(body: unknown): asserts body is Document {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidDocumentError('meta-metrics document must be a JSON object');
  }
  if (!check(body)) {
    const details = (check.errors ?? []).map(describe);
    throw new InvalidDocumentError(`invalid meta-metrics document: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details);
  }
}

export function isMetaDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && check(value);
}

function describe(error: ErrorObject): { path: string; message: string } {
  return { path: error.instancePath || '/', message: error.message ?? 'is invalid' };
}
