import { Body, Controller, Get, Headers, Post, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiNotModifiedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAnyErrorResponse, ApiErrorResponse, schemaRef } from '../common/api-docs.js';
import { MetaStreamService } from './meta-stream.service.js';
import { META_STREAM_DESCRIPTION } from './meta.openapi.js';
import { WriteRoute } from '../telemetry/write-route.decorator.js';
import { MetaService } from './meta.service.js';

const ETAG = { ETag: { description: 'Changes whenever the document does', schema: { type: 'string' } } };

@ApiTags('meta')
@ApiAnyErrorResponse()
@Controller('meta')
export class MetaController {
  constructor(
    private readonly meta: MetaService,
    private readonly events: MetaStreamService,
  ) {}

  /** The current meta-metrics document, from bytes serialized when it changed; `If-None-Match` → 304. */
  @Get('metrics')
  @ApiOperation({ summary: 'The current meta-metrics document', operationId: 'meta_metrics_get' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag from an earlier answer: 304 while the document is unchanged' })
  @ApiOkResponse({ description: 'The current document', schema: schemaRef('MetaMetrics'), headers: ETAG })
  @ApiNotModifiedResponse({ description: 'Unchanged since the ETag given in If-None-Match (no body)', headers: ETAG })
  metrics(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Buffer | string | undefined {
    const snapshot = this.meta.current();
    reply.header('etag', snapshot.etag).header('cache-control', 'no-cache');
    if (ifNoneMatch !== undefined && matchesAny(ifNoneMatch, snapshot.etag)) {
      reply.status(304);
      // No payload at all: an empty string would get `Content-Type: text/plain` and `Content-Length: 0`,
      // which a cache could take for the document's own length (RFC 9110, 8.6). On HEAD, Fastify's
      // automatic HEAD route still sets `Content-Length: 0` (README, "Endpoints").
      return undefined;
    }
    reply.type('application/json; charset=utf-8');
    return this.meta.render(snapshot);
  }

  @Post('metrics')
  @WriteRoute()
  @ApiOperation({ summary: 'Post a meta-metrics document (whole, or partial to merge)', operationId: 'meta_metrics_post' })
  @ApiBody({ schema: schemaRef('MetaMetricsDocument') })
  @ApiErrorResponse(400, 'Malformed JSON, not an object, or a document that breaks the type rules (`details` says where); nothing changed')
  accept(@Body() body: unknown): Promise<{ status: 'ok'; timestamp: string }> {
    return this.meta.accept(body);
  }

  /** Server-Sent Events: the meta-metrics document and the atlas state, pushed as they change. */
  @Get('stream')
  @ApiOperation({
    summary: 'Live updates of the meta-metrics document and the atlas state (Server-Sent Events)',
    operationId: 'meta_stream',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume: the id of the last event received; only newer documents are sent',
  })
  @ApiOkResponse({ description: META_STREAM_DESCRIPTION, content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrorResponse(503, 'Too many open streams (META_STREAM_MAX_CLIENTS) or shutting down', { retryAfter: true })
  stream(@Headers('last-event-id') lastEventId: string | undefined, @Res() reply: FastifyReply): void {
    const stream = this.events.open(lastEventId);
    // A HEAD request never reads the stream: let go of it once the response is over, however it ends.
    reply.raw.once('close', () => stream.destroy());
    // `connection: close`: once a stream ends (shutdown), its socket goes too rather than idling in keep-alive.
    void reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .header('connection', 'close')
      .send(stream);
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

/**
 * `If-None-Match` as HTTP compares it (RFC 9110, 13.1.2): `*`, or a list of tags, compared weakly
 * (`W/"x"` matches `"x"`). An exact string comparison missed lists and the tag without `W/`.
 */
function matchesAny(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const ours = opaque(etag);
  return ifNoneMatch.split(',').some((tag) => opaque(tag) === ours);
}
