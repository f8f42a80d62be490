import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { loggerOptions } from './common/logger.options.js';
import { RouteTable } from './common/route-table.js';
import { ShutdownState } from './common/shutdown.state.js';
import { AppConfig } from './config/app.config.js';
import { GovernorModule } from './governor/governor.module.js';
import { HealthModule } from './health/health.module.js';
import { MetaModule } from './meta/meta.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';

@Global()
@Module({})
export class AppModule {
  /** The whole app for a validated configuration; `createApp()` is the only caller. */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerOptions(config)),
        ScheduleModule.forRoot(),
        // Used by WriteThrottleGuard on the write routes only; it returns at once when the limit is 0 (off).
        ThrottlerModule.forRoot({
          throttlers: [{ limit: Math.max(1, config.access.writeRateLimit), ttl: config.access.writeRateWindowMs }],
        }),
        TelemetryModule,
        MetaModule,
        GovernorModule,
        HealthModule,
        MetricsModule,
      ],
      providers: [
        { provide: AppConfig, useValue: config },
        RouteTable,
        ShutdownState,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
      exports: [AppConfig, RouteTable, ShutdownState],
    };
  }
}
