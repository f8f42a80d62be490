import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { MetaController } from './meta.controller.js';
import { MetaService } from './meta.service.js';

@Module({
  imports: [StateModule, TelemetryModule],
  controllers: [MetaController],
  providers: [MetaService],
  exports: [MetaService],
})
export class MetaModule {}
