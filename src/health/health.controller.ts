import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app.config.js';
import { ReadinessIndicators } from './readiness.indicators.js';
import { SystemMonitor } from './system.monitor.js';
import { formatUptime } from './uptime.js';

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
  @HealthCheck()
  live() {
    return this.health.check([() => this.indicator.check('process').up({ uptime_seconds: this.system.uptimeSeconds() })]);
  }

  /** Readiness: able to take documents now (503 at once during shutdown). 503 with the report otherwise. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.readiness.ingestAccepting(), () => this.readiness.storage(), () => this.readiness.heap()]);
  }

  /** Startup: boot (state loaded, recovery done) has finished; Nest only routes once it has. */
  @Get('startup')
  @HealthCheck()
  startup() {
    return this.health.check([() => this.indicator.check('boot').up()]);
  }
}
