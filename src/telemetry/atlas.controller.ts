import { Body, Controller, Get, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnyErrorResponse, ApiErrorResponse, schemaRef } from '../common/api-docs.js';
import { WriteThrottleGuard } from '../security/write-throttle.guard.js';
import { AtlasService } from './atlas.service.js';

@ApiTags('atlas')
@ApiAnyErrorResponse()
@Controller('atlas')
export class AtlasController {
  constructor(private readonly atlas: AtlasService) {}

  @Post('update')
  @HttpCode(200)
  @ApiOperation({ summary: 'Store an atlas update (latest payload per type)', operationId: 'atlas_update' })
  @ApiBody({ schema: schemaRef('AtlasUpdate') })
  @ApiOkResponse({ description: 'Accepted', schema: schemaRef('Accepted') })
  @ApiErrorResponse(400, 'Malformed JSON, not an object, a bad `type`, or too many distinct types')
  @ApiErrorResponse(413, 'Body larger than BODY_LIMIT_BYTES')
  @ApiErrorResponse(415, 'Content-Type is not application/json')
  @ApiErrorResponse(503, 'Ingest queue full, storage unavailable or shutting down: not stored, retry later', { retryAfter: true })
  @UseGuards(WriteThrottleGuard)
  update(@Body() body: unknown): Promise<{ status: 'ok'; timestamp: string }> {
    return this.atlas.accept(body);
  }

  /** The latest atlas payload per `type` (bridge payloads under `bridge`). */
  @Get('state')
  @ApiOperation({ summary: 'The latest atlas payload per type', operationId: 'atlas_state' })
  @ApiOkResponse({ description: 'The atlas state', schema: schemaRef('AtlasState') })
  @Header('content-type', 'application/json; charset=utf-8')
  state(): Buffer {
    return this.atlas.state();
  }
}
