import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnyErrorResponse, schemaRef } from '../common/api-docs.js';
import { RouteTable } from '../common/route-table.js';
import { AppConfig } from '../config/app.config.js';
import { SystemMonitor } from './system.monitor.js';
import { formatUptime } from './uptime.js';

@ApiTags('service')
@ApiAnyErrorResponse()
@Controller()
export class RootController {
  constructor(
    private readonly config: AppConfig,
    private readonly system: SystemMonitor,
    private readonly routes: RouteTable,
  ) {}

  /** Service banner listing every route it serves. */
  @Get()
  @ApiOperation({ summary: 'Service banner listing every route', operationId: 'root' })
  @ApiOkResponse({ description: 'Name, version, uptime and every route served', schema: schemaRef('ServiceBanner') })
  root(): Record<string, unknown> {
    return {
      service: 'neolight-dashboard',
      version: this.config.version,
      status: 'running',
      uptime: formatUptime(this.system.uptimeSeconds()),
      endpoints: this.routes.endpoints(),
    };
  }
}
