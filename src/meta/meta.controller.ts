import { Body, Controller, Get, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiNotModifiedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAnyErrorResponse, ApiErrorResponse, schemaRef } from '../common/api-docs.js';
import { MetaService } from './meta.service.js';

const ETAG = { ETag: { description: 'Changes whenever the document does', schema: { type: 'string' } } };

@ApiTags('meta')
@ApiAnyErrorResponse()
@Controller('meta')
export class MetaController {
  constructor(private readonly meta: MetaService) {}

  /** The current meta-metrics document, from bytes serialized when it changed; `If-None-Match` → 304. */
  @Get('metrics')
  @ApiOperation({ summary: 'The current meta-metrics document', operationId: 'meta_metrics_get' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag from an earlier answer: 304 while the document is unchanged' })
  @ApiOkResponse({ description: 'The current document', schema: schemaRef('MetaMetrics'), headers: ETAG })
  @ApiNotModifiedResponse({ description: 'Unchanged since the ETag given in If-None-Match (no body)', headers: ETAG })
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
  @ApiOperation({ summary: 'Post a meta-metrics document (whole, or partial to merge)', operationId: 'meta_metrics_post' })
  @ApiBody({ schema: schemaRef('MetaMetricsDocument') })
  @ApiOkResponse({ description: 'Accepted (by default: on disk)', schema: schemaRef('Accepted') })
  @ApiErrorResponse(400, 'Malformed JSON, not an object, or a document that breaks the type rules (`details` says where); nothing changed')
  @ApiErrorResponse(413, 'Body larger than BODY_LIMIT_BYTES')
  @ApiErrorResponse(415, 'Content-Type is not application/json')
  @ApiErrorResponse(503, 'Ingest queue full, storage unavailable or shutting down: not accepted, retry later', { retryAfter: true })
  accept(@Body() body: unknown): Promise<{ status: 'ok'; timestamp: string }> {
    return this.meta.accept(body);
  }

  @Get('performance')
  @ApiOperation({ summary: 'Performance attribution, as the attribution agent wrote it', operationId: 'meta_performance' })
  @ApiOkResponse({ description: 'The attribution file, or an empty one', schema: schemaRef('Performance') })
  @ApiErrorResponse(500, 'The file is unreadable and no good copy was ever read')
  performance(): Record<string, unknown> {
    return this.meta.performance();
  }

  @Get('regime')
  @ApiOperation({ summary: 'Market regime, as the regime detector wrote it', operationId: 'meta_regime' })
  @ApiOkResponse({ description: 'The regime file, or UNKNOWN', schema: schemaRef('Regime') })
  @ApiErrorResponse(500, 'The file is unreadable and no good copy was ever read')
  regime(): Record<string, unknown> {
    return this.meta.regime();
  }
}
