import { Injectable, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { statfs } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { AppConfig } from '../config/app.config.js';

export interface SystemSample {
  /** Busy share of all cores since the previous sample, in percent. */
  cpu: number;
  /** Memory in use (total minus available), in percent. */
  memory: number;
  /** Space used on the volume that holds the meta-metrics document (`METRICS_PATH`), in percent, as `df` counts it. */
  disk: number;
}

const SAMPLE_EVERY_MS = 2000;

/**
 * Samples cpu, memory and disk in the background so `GET /status` never waits for a measurement
 * (the old server's 300 ms CPU sampling in the request is exactly what failover monitors time out on).
 */
@Injectable()
export class SystemMonitor implements OnModuleInit {
  private lastCpu = cpuTimes();
  private current: SystemSample = { cpu: 0, memory: 0, disk: 0 };
  readonly startedAt = new Date();

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sample();
    this.scheduler.addInterval(SystemMonitor.name, setInterval(() => void this.sample(), SAMPLE_EVERY_MS));
  }

  get latest(): SystemSample {
    return this.current;
  }

  uptimeSeconds(now = Date.now()): number {
    return Math.floor((now - this.startedAt.getTime()) / 1000);
  }

  async sample(): Promise<void> {
    const cpu = cpuTimes();
    const busy = cpu.busy - this.lastCpu.busy;
    const total = cpu.total - this.lastCpu.total;
    this.lastCpu = cpu;
    const disk = await diskUsage(dirname(this.config.metricsPath));
    this.current = {
      cpu: total > 0 ? round((busy / total) * 100) : this.current.cpu,
      memory: round(((totalmem() - freemem()) / totalmem()) * 100),
      disk: disk.percent,
    };
  }
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

async function diskUsage(dir: string): Promise<{ percent: number }> {
  try {
    const s = await statfs(dir);
    const used = s.blocks - s.bfree;
    const usable = used + s.bavail;
    return { percent: usable > 0 ? round((used / usable) * 100) : 0 };
  } catch {
    return { percent: 0 };
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
