import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetaModule } from '../meta/meta.module.js';
import { StateModule } from '../state/state.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { HealthController } from './health.controller.js';
import { ReadinessIndicators } from './readiness.indicators.js';
import { RootController } from './root.controller.js';
import { StatusController } from './status.controller.js';
import { SystemMonitor } from './system.monitor.js';

@Module({
  imports: [TerminusModule, TelemetryModule, MetaModule, StateModule],
  controllers: [RootController, HealthController, StatusController],
  providers: [SystemMonitor, ReadinessIndicators],
})
export class HealthModule {}
