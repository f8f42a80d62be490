import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { ShutdownState } from '../common/shutdown.state.js';
import { AppConfig } from '../config/app.config.js';
import { StateRepository } from '../state/state.repository.js';
import { IngestQueue } from '../telemetry/ingest.queue.js';

/**
 * What `GET /health/ready` checks: able to take documents now. Each check is a terminus
 * indicator; any `down` makes the probe answer 503 with the full report.
 */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly ingest: IngestQueue,
    private readonly repository: StateRepository,
    private readonly shutdown: ShutdownState,
    private readonly config: AppConfig,
  ) {}

  /** Not shutting down, room in the queue, and the last write succeeded (rechecked if it did not). */
  async ingestAccepting() {
    const check = this.indicator.check('ingest');
    const data = { depth: this.ingest.depth, capacity: this.ingest.capacity };
    if (this.shutdown.shuttingDown) return check.down({ ...data, message: 'shutting down' });
    if (this.ingest.depth >= this.ingest.capacity) return check.down({ ...data, message: 'queue saturated' });
    if (!(await this.ingest.recheck())) {
      // Each document with its error's code only (ENOSPC, EROFS...): the message names the file's
      // absolute path, and this probe is open to anyone.
      const failed = [...this.ingest.failedWrites].map(([key, error]: [string, NodeJS.ErrnoException]) => `${key}: ${error.code ?? 'unknown error'}`);
      return check.down({ ...data, message: `last write failed (${failed.join(', ')})` });
    }
    return check.up(data);
  }

  /** The state directory takes a real (fsynced) write, and has the configured free space left. */
  async storage() {
    const check = this.indicator.check('storage');
    try {
      await this.repository.probe(1);
    } catch (error) {
      return check.down({ message: `state directory is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
    }
    // The volumes that hold the two documents (METRICS_PATH and ATLAS_PATH may put them outside
    // state/, which then need not exist): the least free space among them. A directory that does
    // not exist holds nothing to measure (the in-memory store creates none; the file store's
    // write probe above fails first).
    let free: number | undefined;
    for (const dir of new Set([dirname(this.config.metricsPath), dirname(this.config.atlasPath)])) {
      try {
        const fs = await statfs(dir);
        free = Math.min(free ?? Infinity, fs.bavail * fs.bsize);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') return check.down({ message: `cannot measure free space (${code ?? 'error'})` });
      }
    }
    if (free === undefined) return check.up({ message: 'no document directory to measure' });
    const data = { free_bytes: free, min_free_bytes: this.config.readyMinFreeDiskBytes };
    return free < this.config.readyMinFreeDiskBytes ? check.down({ ...data, message: 'low disk space' }) : check.up(data);
  }

  /** The V8 heap is below the configured share of its limit. */
  heap() {
    const check = this.indicator.check('heap');
    const { used_heap_size, heap_size_limit } = getHeapStatistics();
    const percent = Math.round((used_heap_size / heap_size_limit) * 1000) / 10;
    const data = { used_percent: percent, max_percent: this.config.readyMaxHeapPercent };
    return percent > this.config.readyMaxHeapPercent ? check.down({ ...data, message: 'heap nearly full' }) : check.up(data);
  }
}
