import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetaModule } from '../meta/meta.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { HealthController } from './health.controller.js';
import { IngestHealthIndicator } from './ingest.health.js';
import { RootController } from './root.controller.js';
import { StatusController } from './status.controller.js';
import { SystemMonitor } from './system.monitor.js';

@Module({
  imports: [TerminusModule, TelemetryModule, MetaModule],
  controllers: [RootController, HealthController, StatusController],
  providers: [SystemMonitor, IngestHealthIndicator],
})
export class HealthModule {}
