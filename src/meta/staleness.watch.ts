import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app.config.js';
import { MetaService } from './meta.service.js';

/**
 * Warns (once per episode) when no meta-metrics document has arrived for longer than
 * `STALE_AFTER_SECONDS`, and says so again when telemetry resumes. The age itself is the
 * `neolight_meta_metrics_age_seconds` gauge and the `age_seconds` key of `GET /meta/metrics`.
 */
@Injectable()
export class StalenessWatch implements OnModuleInit {
  private readonly logger = new Logger(StalenessWatch.name);
  private stale = false;

  constructor(
    private readonly meta: MetaService,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onModuleInit(): void {
    const everyMs = Math.min(10_000, this.config.staleAfterSeconds * 250);
    this.scheduler.addInterval(StalenessWatch.name, setInterval(() => this.check(), everyMs));
  }

  /** Returns whether the document is stale now. */
  check(now = Date.now()): boolean {
    const age = this.meta.ageSeconds(now);
    const stale = age > this.config.staleAfterSeconds;
    if (stale && !this.stale) {
      this.logger.warn({ ageSeconds: Math.round(age), staleAfterSeconds: this.config.staleAfterSeconds }, 'no meta-metrics document received recently: agent telemetry is stale');
    } else if (!stale && this.stale) {
      this.logger.log({ ageSeconds: Math.round(age) }, 'meta-metrics telemetry resumed');
    }
    this.stale = stale;
    return stale;
  }
}
