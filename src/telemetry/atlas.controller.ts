import { Body, Controller, Get, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { WriteThrottleGuard } from '../security/write-throttle.guard.js';
import { AtlasService } from './atlas.service.js';

@Controller('atlas')
export class AtlasController {
  constructor(private readonly atlas: AtlasService) {}

  @Post('update')
  @HttpCode(200)
  @UseGuards(WriteThrottleGuard)
  update(@Body() body: unknown): Promise<{ status: 'ok'; timestamp: string }> {
    return this.atlas.accept(body);
  }

  /** The latest atlas payload per `type` (bridge payloads under `bridge`). */
  @Get('state')
  @Header('content-type', 'application/json; charset=utf-8')
  state(): string {
    return this.atlas.state();
  }
}
