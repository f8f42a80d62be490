import type { Document } from '../telemetry/ingest.queue.js';

export interface GuardianPause {
  paused?: unknown;
  reason?: unknown;
  until?: unknown;
}

/**
 * Applies a posted document to the current one (CONTRACT.md FIX 6): a document with `per_agent`
 * replaces the current one; a partial one (the stress runner's) is merged at the top level.
 * `cache_timestamp` records when it was applied. A posted `age_seconds` is dropped: the service
 * computes it as it serves the document, and a stored copy (from a tool that posts back what it
 * read) would be sent beside it, a duplicate key that JSON parsers resolve to the stale value.
 */
export function applyMetaDocument(current: Document, incoming: Document, appliedAt: Date): Document {
  const base = 'per_agent' in incoming ? {} : current;
  return withoutServedKeys({ ...base, ...incoming, cache_timestamp: appliedAt.toISOString() });
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
 * so its age reads as old rather than as fresh. An `age_seconds` stored in it is dropped, as when
 * a document is posted.
 */
export function reviveStoredDocument(stored: Document): Document {
  const revived = withoutServedKeys(stored);
  if (typeof revived.cache_timestamp === 'string' && !Number.isNaN(Date.parse(revived.cache_timestamp))) return revived;
  const produced = typeof revived.timestamp === 'string' ? Date.parse(revived.timestamp) : NaN;
  return { ...revived, cache_timestamp: new Date(Number.isNaN(produced) ? 0 : produced).toISOString() };
}

/** `document` without `age_seconds`, which `MetaService.render()` puts in front of every answer. */
function withoutServedKeys(document: Document): Document {
  if (!Object.hasOwn(document, 'age_seconds')) return document;
  const rest = { ...document };
  delete rest.age_seconds;
  return rest;
}
