import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module.js';
import { AtlasController } from './atlas.controller.js';
import { AtlasService } from './atlas.service.js';
import { IngestQueue } from './ingest.queue.js';

/** The ingest pipeline (one writer for our state) and the atlas routes. */
@Module({
  imports: [StateModule],
  controllers: [AtlasController],
  providers: [IngestQueue, AtlasService],
  exports: [IngestQueue],
})
export class TelemetryModule {}
