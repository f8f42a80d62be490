import { Body, Controller, Get, Headers, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { WriteThrottleGuard } from '../security/write-throttle.guard.js';
import { MetaService } from './meta.service.js';

@Controller('meta')
export class MetaController {
  constructor(private readonly meta: MetaService) {}

  /** The current meta-metrics document, from bytes serialized when it changed; `If-None-Match` → 304. */
  @Get('metrics')
  metrics(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): string {
    const snapshot = this.meta.current();
    reply.header('etag', snapshot.etag).header('cache-control', 'no-cache');
    if (ifNoneMatch === snapshot.etag) {
      reply.status(304);
      return '';
    }
    reply.type('application/json; charset=utf-8');
    return this.meta.render(snapshot);
  }

  @Post('metrics')
  @HttpCode(200)
  @UseGuards(WriteThrottleGuard)
  accept(@Body() body: unknown): Promise<{ status: 'ok'; timestamp: string }> {
    return this.meta.accept(body);
  }

  @Get('performance')
  performance(): Record<string, unknown> {
    return this.meta.performance();
  }

  @Get('regime')
  regime(): Record<string, unknown> {
    return this.meta.regime();
  }
}
