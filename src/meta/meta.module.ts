import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { MetaStreamService } from './meta-stream.service.js';
import { MetaController } from './meta.controller.js';
import { MetaService } from './meta.service.js';
import { StalenessWatch } from './staleness.watch.js';

@Module({
  imports: [StateModule, TelemetryModule],
  controllers: [MetaController],
  providers: [MetaService, StalenessWatch, MetaStreamService],
  exports: [MetaService],
})
export class MetaModule {}
