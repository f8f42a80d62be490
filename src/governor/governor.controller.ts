import { Controller, Get } from '@nestjs/common';
import { AgentFileCache } from '../state/agent-file.cache.js';

@Controller('governor')
export class GovernorController {
  constructor(private readonly files: AgentFileCache) {}

  /** The capital governor's allocations, else the override file's, else none. */
  @Get('allocations')
  allocations(): Record<string, unknown> {
    return this.files.read(['allocations', 'allocationsOverride']) ?? { allocations: {}, timestamp: new Date().toISOString() };
  }
}
