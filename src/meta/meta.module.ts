import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { MetaStreamService } from './meta-stream.service.js';
import { MetaController } from './meta.controller.js';
import { MetaService } from './meta.service.js';

@Module({
  imports: [StateModule, TelemetryModule],
  controllers: [MetaController],
  providers: [MetaService, MetaStreamService],
  exports: [MetaService],
})
export class MetaModule {}
