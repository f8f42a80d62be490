import { Body, Controller, Get, Header, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnyErrorResponse, ApiErrorResponse, schemaRef } from '../common/api-docs.js';
import { WriteRoute } from './write-route.decorator.js';
import { AtlasService } from './atlas.service.js';

@ApiTags('atlas')
@ApiAnyErrorResponse()
@Controller('atlas')
export class AtlasController {
  constructor(private readonly atlas: AtlasService) {}

  @Post('update')
  @WriteRoute()
  @ApiOperation({ summary: 'Store an atlas update (latest payload per type)', operationId: 'atlas_update' })
  @ApiBody({ schema: schemaRef('AtlasUpdate') })
  @ApiErrorResponse(400, 'Malformed JSON, not an object, a bad `type`, or too many distinct types')
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
