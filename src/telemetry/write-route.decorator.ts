import { applyDecorators, HttpCode, UseGuards } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { ApiErrorResponse, schemaRef } from '../common/api-docs.js';
import { WriteThrottleGuard } from '../security/write-throttle.guard.js';

/**
 * What every telemetry write route shares (POST /meta/metrics, POST /atlas/update): 200 with
 * `{"status":"ok","timestamp"}`, the per-client write rate limit, and the errors the ingest path
 * answers whatever the document. Each route still documents its own operation, body and 400.
 */
export function WriteRoute(): MethodDecorator {
  return applyDecorators(
    HttpCode(200),
    UseGuards(WriteThrottleGuard),
    ApiOkResponse({ description: 'Accepted (by default: on disk)', schema: schemaRef('Accepted') }),
    ApiErrorResponse(413, 'Body larger than BODY_LIMIT_BYTES, or a change that would grow the meta-metrics document past DOCUMENT_MAX_BYTES'),
    ApiErrorResponse(415, 'Content-Type is not application/json, or the body has a Content-Encoding (send it uncompressed)'),
    ApiErrorResponse(429, 'Write rate limit reached for this client (only when WRITE_RATE_LIMIT is set)', { retryAfter: true }),
    ApiErrorResponse(503, 'Ingest queue full, storage unavailable or shutting down: not stored, retry later', { retryAfter: true }),
  );
}
