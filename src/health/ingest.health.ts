import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ShutdownState } from '../common/shutdown.state.js';
import { IngestQueue } from '../telemetry/ingest.queue.js';

/** Readiness of the ingest pipeline: not shutting down, queue not saturated, writes succeeding. */
@Injectable()
export class IngestHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly ingest: IngestQueue,
    private readonly shutdown: ShutdownState,
  ) {}

  async isReady(key = 'ingest') {
    const check = this.indicator.check(key);
    const data = { depth: this.ingest.depth, capacity: this.ingest.capacity };
    if (this.shutdown.shuttingDown) return check.down({ ...data, message: 'shutting down' });
    if (this.ingest.depth >= this.ingest.capacity) return check.down({ ...data, message: 'queue saturated' });
    if (!(await this.ingest.recheck())) {
      return check.down({ ...data, message: `last write failed: ${this.ingest.lastWriteError?.message ?? 'unknown'}` });
    }
    return check.up(data);
  }
}
