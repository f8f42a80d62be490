import { Body, Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { AtlasService } from './atlas.service.js';

@Controller('atlas')
export class AtlasController {
  constructor(private readonly atlas: AtlasService) {}

  @Post('update')
  @HttpCode(200)
  update(@Body() body: unknown): Promise<{ status: 'ok'; timestamp: string }> {
    return this.atlas.accept(body);
  }

  /** The latest atlas payload per `type` (bridge payloads under `bridge`). */
  @Get('state')
  @Header('content-type', 'application/json; charset=utf-8')
  state(): Buffer {
    return this.atlas.state();
  }
}
