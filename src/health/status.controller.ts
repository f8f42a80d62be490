import { Controller, Get } from '@nestjs/common';
import { MetaService } from '../meta/meta.service.js';
import { SystemMonitor } from './system.monitor.js';

@Controller('status')
export class StatusController {
  constructor(
    private readonly system: SystemMonitor,
    private readonly meta: MetaService,
  ) {}

  /** The old shape, with real numbers sampled in the background (never measured in the request). */
  @Get()
  status(): Record<string, unknown> {
    const { cpu, memory, disk } = this.system.latest;
    const guardian = this.meta.current().value.guardian as { is_paused?: unknown } | undefined;
    return {
      system: { cpu, memory, disk, uptime: this.system.startedAt.toISOString(), uptime_seconds: this.system.uptimeSeconds() },
      guardian: { logs: {}, agents: [], is_paused: guardian?.is_paused === true },
    };
  }
}
