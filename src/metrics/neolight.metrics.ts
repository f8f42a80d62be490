import { createHash } from 'node:crypto';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, register, type Metric } from 'prom-client';
import { isPlainObject } from '../common/lenient-json.js';
import { AppConfig } from '../config/app.config.js';
import { MetaService } from '../meta/meta.service.js';
import { AgentFileCache } from '../state/agent-file.cache.js';
import { IngestQueue } from '../telemetry/ingest.queue.js';

const AGENT_FIELDS = ['pnl_1d', 'pnl_7d', 'sharpe_30d', 'winrate_30d', 'max_dd_30d'] as const;
const STRATEGY_FIELDS = ['pnl_7d', 'sharpe_30d', 'score'] as const;
const BREAKER_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN'] as const;
/** A regime label is kept only if it looks like one (`BULL`, `HIGH_VOLATILITY`); else `OTHER`. */
const REGIME_LABEL = /^[A-Z][A-Z0-9_]{0,31}$/;

type Section = Record<string, Record<string, unknown>>;

/**
 * Every metric the service exports, defined here and only here. Trading-state gauges are computed
 * when Prometheus scrapes (from documents already in memory), so requests pay nothing for them;
 * HTTP metrics are observed by the Fastify `onResponse` hook. Labels come from bounded sets:
 * route templates, and at most `METRICS_MAX_LABELLED` agents/strategies (the rest are counted).
 */
@Injectable()
export class NeolightMetrics implements OnModuleDestroy {
  private readonly owned: string[] = [];
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly config: AppConfig,
    ingest: IngestQueue,
    private readonly meta: MetaService,
    private readonly files: AgentFileCache,
  ) {
    if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();

    this.httpRequests = this.own('http_requests_total', () =>
      new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status.', labelNames: ['method', 'route', 'status'] }),
    );
    this.httpDuration = this.own('http_request_duration_seconds', () =>
      new Histogram({
        name: 'http_request_duration_seconds',
        help: 'Time from request to response, by method, route template and status.',
        labelNames: ['method', 'route', 'status'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      }),
    );

    const flush = this.own('neolight_ingest_flush_duration_seconds', () =>
      new Histogram({
        name: 'neolight_ingest_flush_duration_seconds',
        help: 'Time to write and fsync one group commit.',
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      }),
    );
    this.unsubscribe = ingest.onFlushed((seconds) => flush.observe(seconds));

    this.gauge('neolight_ingest_queue_depth', 'Documents accepted and not yet acknowledged durable.', () => ingest.depth);
    this.gauge('neolight_ingest_queue_capacity', 'Queue capacity; beyond it POSTs get 503.', () => ingest.capacity);
    this.total('neolight_ingest_accepted_total', 'Documents acknowledged with a 2xx.', () => ingest.counters.accepted);
    this.total(
      'neolight_ingest_rejected_total',
      'Documents refused before being queued: 503 (queue full, shutting down, writes failing in enqueue mode) or 413 (too large, enqueue mode).',
      () => ingest.counters.rejected,
    );
    this.total(
      'neolight_ingest_failed_total',
      'Documents refused after being queued: 503 (their write failed), 413 (too large) or 500 (could not be serialized).',
      () => ingest.counters.failed,
    );
    this.total('neolight_ingest_write_failures_total', 'Failed write attempts (disk full, I/O errors).', () => ingest.counters.writeFailures);
    this.total('neolight_state_quarantined_total', 'Unreadable state files moved aside at boot or reload.', () => ingest.counters.quarantined);
    this.gauge('neolight_ready', '1 when the service takes documents (not shutting down, queue not full, writes succeeding).', () =>
      ingest.accepting ? 1 : 0,
    );

    this.gauge('neolight_meta_metrics_age_seconds', 'Seconds since the current meta-metrics document was applied.', () => meta.ageSeconds());
    this.gauge('neolight_meta_metrics_stale', '1 while no producer has posted a full document (default served).', () =>
      this.meta.current().value.stale === true ? 1 : 0,
    );

    for (const field of AGENT_FIELDS) {
      this.labelled(`neolight_agent_${field}`, `Per-agent ${field} from the latest meta-metrics document.`, 'agent', () => this.section('per_agent'), field);
    }
    this.gauge('neolight_agents', 'Agents in the latest document.', () => Object.keys(this.section('per_agent')).length);
    this.gauge('neolight_agents_unlabelled', 'Agents beyond METRICS_MAX_LABELLED, counted but not labelled.', () =>
      Math.max(0, Object.keys(this.section('per_agent')).length - config.metricsMaxLabelled),
    );
    for (const field of STRATEGY_FIELDS) {
      this.labelled(`neolight_strategy_${field}`, `Per-strategy ${field} from the latest meta-metrics document.`, 'strategy', () => this.section('per_strategy'), field);
    }
    this.gauge('neolight_strategies_unlabelled', 'Strategies beyond METRICS_MAX_LABELLED, counted but not labelled.', () =>
      Math.max(0, Object.keys(this.section('per_strategy')).length - config.metricsMaxLabelled),
    );

    this.gauge('neolight_guardian_paused', '1 while the Guardian has paused trading.', () => (this.object('guardian').is_paused === true ? 1 : 0));
    this.gauge('neolight_guardian_drawdown', 'Guardian drawdown from the latest document.', () => finite(this.object('guardian').drawdown));
    const breakers: Gauge<'breaker' | 'state'> = this.own('neolight_breaker_state', () =>
      new Gauge({
        name: 'neolight_breaker_state',
        help: 'Circuit breaker state: 1 for the current state of each breaker, 0 for the others.',
        labelNames: ['breaker', 'state'],
        collect: () => {
          breakers.reset();
          const current = this.object('breakers');
          for (const breaker of ['quote', 'trade']) {
            for (const state of BREAKER_STATES) breakers.set({ breaker, state }, current[`${breaker}_state`] === state ? 1 : 0);
          }
        },
      }),
    );
    const regime: Gauge<'regime'> = this.own('neolight_market_regime', () =>
      new Gauge({
        name: 'neolight_market_regime',
        help: 'The current market regime (1 for the labelled regime).',
        labelNames: ['regime'],
        collect: () => {
          regime.reset();
          const value = this.object('market_regime').regime;
          regime.set({ regime: typeof value === 'string' && REGIME_LABEL.test(value) ? value : 'OTHER' }, 1);
        },
      }),
    );
    this.gauge('neolight_market_risk_multiplier', 'Risk multiplier of the current market regime.', () => finite(this.object('market_regime').risk_multiplier, 1));
    this.labelled('neolight_capital_allocation', 'Capital allocation weight per agent (governor file, else override).', 'agent', () => this.allocations());
  }

  onModuleDestroy(): void {
    this.unsubscribe();
    for (const name of this.owned) register.removeSingleMetric(name);
  }

  /** Registers a metric this app owns (replacing one an earlier app in this process left behind). */
  private own<T extends Metric>(name: string, create: () => T): T {
    register.removeSingleMetric(name);
    const metric = create();
    this.owned.push(name);
    return metric;
  }

  private gauge(name: string, help: string, value: () => number): void {
    const gauge: Gauge = this.own(name, () => new Gauge({ name, help, collect: () => gauge.set(value()) }));
  }

  /** A monotonically increasing count kept elsewhere (the ingest queue's counters). */
  private total(name: string, help: string, value: () => number): void {
    const counter: Counter = this.own(name, () =>
      new Counter({
        name,
        help,
        collect: () => {
          counter.reset();
          counter.inc(value());
        },
      }),
    );
  }

  /** One series per key of `section()` (capped), from `field` of each entry, or the entry itself. */
  private labelled(name: string, help: string, label: string, section: () => Record<string, unknown>, field?: string): void {
    const max = this.config.metricsMaxLabelled;
    const gauge: Gauge = this.own(name, () =>
      new Gauge({
        name,
        help,
        labelNames: [label],
        collect: () => {
          gauge.reset();
          const entries = Object.entries(section()).sort(([a], [b]) => a.localeCompare(b)).slice(0, max);
          for (const [key, entry] of entries) {
            const value = field === undefined ? entry : isPlainObject(entry) ? entry[field] : undefined;
            if (typeof value === 'number' && Number.isFinite(value)) gauge.set({ [label]: labelValue(key) }, value);
          }
        },
      }),
    );
  }

  private object(key: string): Record<string, unknown> {
    const value = this.meta.current().value[key];
    return isPlainObject(value) ? value : {};
  }

  private section(key: 'per_agent' | 'per_strategy'): Section {
    return this.object(key) as Section;
  }

  private allocations(): Record<string, unknown> {
    try {
      const doc = this.files.read(['allocations', 'allocationsOverride']);
      return isPlainObject(doc?.allocations) ? doc.allocations : {};
    } catch {
      return {};
    }
  }
}

function finite(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/**
 * A name as a label value, at most 64 characters. A longer one (or one with a `~`, which could
 * otherwise look like another's) keeps its first 55 and ends in `~` and 8 characters of its hash:
 * two names that share their first 64 characters stay two series (a plain cut merged them, and one
 * agent's number was reported under the other's name).
 */
export function labelValue(name: string): string {
  return name.length <= 64 && !name.includes('~') ? name : `${name.slice(0, 55)}~${createHash('sha1').update(name).digest('hex').slice(0, 8)}`;
}
