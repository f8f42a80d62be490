import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app.config.js';
import { AgentFileCache } from './agent-file.cache.js';
import { InMemoryStateStore } from './in-memory.state.store.js';
import { JsonFileStateStore } from './json-file.state.store.js';
import { StateRepository } from './state.repository.js';

@Module({
  providers: [
    {
      provide: StateRepository,
      inject: [AppConfig],
      useFactory: (config: AppConfig): StateRepository =>
        config.stateStore === 'memory'
          ? new InMemoryStateStore()
          : new JsonFileStateStore({ meta_metrics: config.metricsPath, atlas: config.atlasPath }, { writeMode: config.stateWrites }),
    },
    AgentFileCache,
  ],
  exports: [StateRepository, AgentFileCache],
})
export class StateModule {}
