import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiAnyErrorResponse, schemaRef } from '../common/api-docs.js';
import { AppConfig } from '../config/app.config.js';
import { ReadinessIndicators } from './readiness.indicators.js';
import { SystemMonitor } from './system.monitor.js';
import { formatUptime } from './uptime.js';

/** Terminus' own OpenAPI metadata is off: its 503 schema is not what our exception filter answers. */
const Probe = () => HealthCheck({ noCache: true, swaggerDocumentation: false });
const PROBE_OK = { description: 'The check passes', schema: schemaRef('HealthCheck') };

@ApiAnyErrorResponse()
@Controller('health')
export class HealthController {
  constructor(
    private readonly config: AppConfig,
    private readonly system: SystemMonitor,
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly readiness: ReadinessIndicators,
  ) {}

  /** Legacy shape for shell tools and failover monitors: 200 while the process lives. */
  @Get()
  @ApiTags('service')
  @ApiOperation({ summary: 'Legacy health: 200 while the process lives', operationId: 'health' })
  @ApiOkResponse({ description: "The old server's health shape", schema: schemaRef('LegacyHealth') })
  legacy(): Record<string, unknown> {
    const seconds = this.system.uptimeSeconds();
    return {
      status: 'ok',
      uptime: formatUptime(seconds),
      version: this.config.version,
      timestamp: new Date().toISOString(),
      service: 'neolight-dashboard',
      uptime_seconds: seconds,
    };
  }

  /** Liveness: the process and its event loop answer. No dependency checks (a full disk must not get the pod killed). */
  @Get('live')
  @Probe()
  @ApiTags('probes')
  @ApiOperation({ summary: 'Liveness probe: the process and its event loop answer', operationId: 'health_live' })
  @ApiOkResponse(PROBE_OK)
  live() {
    return this.health.check([() => this.indicator.check('process').up({ uptime_seconds: this.system.uptimeSeconds() })]);
  }

  /** Readiness: able to take documents now (503 at once during shutdown); otherwise 503 with terminus' report beside the error. */
  @Get('ready')
  @Probe()
  @ApiTags('probes')
  @ApiOperation({ summary: 'Readiness probe: able to take documents now', operationId: 'health_ready' })
  @ApiOkResponse(PROBE_OK)
  @ApiServiceUnavailableResponse({
    description:
      'Not ready: shutting down, ingest queue saturated, state directory not writable or low on space, or heap nearly full. ' +
      "With terminus' report (ProbeFailure); in the last moments of a shutdown, when terminus itself reports shutting_down, the plain error shape.",
    schema: { anyOf: [schemaRef('ProbeFailure'), schemaRef('ErrorResponse')] },
  })
  ready() {
    return this.health.check([() => this.readiness.ingestAccepting(), () => this.readiness.storage(), () => this.readiness.heap()]);
  }

  /** Startup: boot (state loaded, recovery done) has finished; Nest only routes once it has. */
  @Get('startup')
  @Probe()
  @ApiTags('probes')
  @ApiOperation({ summary: 'Startup probe: boot (state loaded, recovery done) has finished', operationId: 'health_startup' })
  @ApiOkResponse(PROBE_OK)
  startup() {
    return this.health.check([() => this.indicator.check('boot').up()]);
  }
}
