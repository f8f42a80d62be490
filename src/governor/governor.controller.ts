import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnyErrorResponse, ApiErrorResponse, schemaRef } from '../common/api-docs.js';
import { AgentFileCache } from '../state/agent-file.cache.js';

@ApiTags('governor')
@ApiAnyErrorResponse()
@Controller('governor')
export class GovernorController {
  constructor(private readonly files: AgentFileCache) {}

  /** The capital governor's allocations, else the override file's, else none. */
  @Get('allocations')
  @ApiOperation({
    summary: "Capital allocations: the governor's file, else the override file, else none",
    operationId: 'governor_allocations',
  })
  @ApiOkResponse({ description: 'The allocations file as written', schema: schemaRef('Allocations') })
  @ApiErrorResponse(500, 'The override file is unreadable and no good copy of either file was ever read')
  allocations(): Record<string, unknown> {
    return this.files.read(['allocations', 'allocationsOverride']) ?? { allocations: {}, timestamp: new Date().toISOString() };
  }
}
