import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnyErrorResponse, schemaRef } from '../common/api-docs.js';
import { MetaService } from '../meta/meta.service.js';
import { SystemMonitor } from './system.monitor.js';

@ApiTags('service')
@ApiAnyErrorResponse()
@Controller('status')
export class StatusController {
  constructor(
    private readonly system: SystemMonitor,
    private readonly meta: MetaService,
  ) {}

  /** The old shape, with real numbers sampled in the background (never measured in the request). */
  @Get()
  @ApiOperation({ summary: 'System numbers and the Guardian pause, in the old shape; never blocks', operationId: 'status' })
  @ApiOkResponse({ description: 'cpu, memory and disk in percent, uptime', schema: schemaRef('Status') })
  status(): Record<string, unknown> {
    const { cpu, memory, disk } = this.system.latest;
    const guardian = this.meta.current().value.guardian as { is_paused?: unknown } | undefined;
    return {
      system: { cpu, memory, disk, uptime: this.system.startedAt.toISOString(), uptime_seconds: this.system.uptimeSeconds() },
      guardian: { logs: {}, agents: [], is_paused: guardian?.is_paused === true },
    };
  }
}
