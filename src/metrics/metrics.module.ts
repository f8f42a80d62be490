import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { MetaModule } from '../meta/meta.module.js';
import { StateModule } from '../state/state.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { MetricsController } from './metrics.controller.js';
import { NeolightMetrics } from './neolight.metrics.js';

@Module({
  // Default process metrics are collected by NeolightMetrics, once per process (this module can
  // be built several times in one process, e.g. by tests).
  imports: [PrometheusModule.register({ controller: MetricsController, defaultMetrics: { enabled: false } }), TelemetryModule, MetaModule, StateModule],
  providers: [NeolightMetrics],
  exports: [NeolightMetrics],
})
export class MetricsModule {}
