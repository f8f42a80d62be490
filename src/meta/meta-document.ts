import type { Document } from '../telemetry/ingest.queue.js';

export interface GuardianPause {
  paused?: unknown;
  reason?: unknown;
  until?: unknown;
}

/**
 * Applies a posted document to the current one (CONTRACT.md FIX 6): a document with `per_agent`
 * replaces the current one; a partial one (the stress runner's) is merged at the top level.
 * `cache_timestamp` records when it was applied.
 */
export function applyMetaDocument(current: Document, incoming: Document, appliedAt: Date): Document {
  const base = 'per_agent' in incoming ? {} : current;
  return { ...base, ...incoming, cache_timestamp: appliedAt.toISOString() };
}

/**
 * What `GET /meta/metrics` serves before any producer has posted (CONTRACT.md FIX 5): every key
 * present, nothing traded, marked `stale`. An operator's pause in `state/guardian_pause.json` is
 * honoured so the router does not trade through it after a fresh start.
 */
export function defaultMetaDocument(now: Date, pause?: GuardianPause): Document {
  const paused = isPauseInForce(pause, now);
  return {
    timestamp: now.toISOString(),
    per_agent: {},
    per_strategy: {},
    guardian: {
      is_paused: paused,
      drawdown: 0,
      reason: paused ? (typeof pause?.reason === 'string' ? pause.reason : 'paused by operator') : '',
    },
    breakers: { quote_state: 'CLOSED', trade_state: 'CLOSED' },
    mode: 'TEST_MODE',
    market_regime: { regime: 'UNKNOWN', risk_multiplier: 1 },
    summary: { total_agents: 0, total_strategies: 0, top_agent: null, top_strategy: null },
    stale: true,
    cache_timestamp: now.toISOString(),
  };
}

function isPauseInForce(pause: GuardianPause | undefined, now: Date): boolean {
  if (pause?.paused !== true) return false;
  if (typeof pause.until !== 'string' && typeof pause.until !== 'number') return true;
  const until = typeof pause.until === 'number' ? pause.until * 1000 : Date.parse(pause.until);
  return Number.isNaN(until) || until > now.getTime();
}

/**
 * A stored document written by someone else (the old server's file, say) may lack
 * `cache_timestamp`; it then gets the producer's `timestamp` when that is a date, else the epoch,
 * so its age reads as old rather than as fresh.
 */
export function withCacheTimestamp(stored: Document): Document {
  if (typeof stored.cache_timestamp === 'string' && !Number.isNaN(Date.parse(stored.cache_timestamp))) return stored;
  const produced = typeof stored.timestamp === 'string' ? Date.parse(stored.timestamp) : NaN;
  return { ...stored, cache_timestamp: new Date(Number.isNaN(produced) ? 0 : produced).toISOString() };
}
