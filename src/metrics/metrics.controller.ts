import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { ApiAnyErrorResponse } from '../common/api-docs.js';

/** `GET /metrics`: Prometheus text format (definitions in `neolight.metrics.ts`). */
@ApiTags('observability')
@ApiAnyErrorResponse()
@Controller()
export class MetricsController extends PrometheusController {
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics: process, HTTP by route, ingest queue, trading state', operationId: 'metrics' })
  @ApiOkResponse({
    description:
      'Prometheus text exposition format (0.0.4). Metric names and labels are defined in src/metrics/neolight.metrics.ts; ' +
      'agent and strategy labels are capped at METRICS_MAX_LABELLED.',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  override index(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    return super.index(reply);
  }
}
