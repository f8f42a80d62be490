import { ApiDefaultResponse, ApiResponse, type SchemaObject } from '@nestjs/swagger';

/**
 * OpenAPI metadata shared by every controller. Schemas are plain JSON Schema (OpenAPI 3.1), kept
 * as named components; decorators point at them with `schemaRef`. Decorators are metadata only:
 * nothing here runs per request.
 */
export function schemaRef(name: string): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}

/** The one error shape (CONTRACT.md "Errors"), whatever the status. */
export const ERROR_RESPONSE_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'Every error the service answers, from routing, the body parser, validation or a fault. `code` is the HTTP status.',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string', description: 'What went wrong. A 5xx carries a generic message; the detail goes to the log only.' },
    code: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status, repeated.' },
    details: {
      type: 'array',
      description: 'Validation failures (400 only): where in the document, and what is wrong there.',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string', description: 'JSON pointer into the request body' }, message: { type: 'string' } },
      },
    },
  },
};

/** `{"status": "ok", "timestamp"}`: the document was accepted (durable by default: on disk). */
export const ACCEPTED_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['status', 'timestamp'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    timestamp: { type: 'string', format: 'date-time', description: 'When the document was applied (UTC).' },
  },
};

export const COMMON_SCHEMAS: Record<string, SchemaObject> = {
  ErrorResponse: ERROR_RESPONSE_SCHEMA,
  Accepted: ACCEPTED_SCHEMA,
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
};

/** An error status a route answers on purpose, in the error shape; `retryAfter` when it carries `Retry-After`. */
export function ApiErrorResponse(status: number, description: string, { retryAfter = false } = {}): MethodDecorator & ClassDecorator {
  return ApiResponse({ status, description, schema: schemaRef('ErrorResponse'), ...(retryAfter ? { headers: RETRY_AFTER } : {}) });
}

/** On every controller: whatever else can go wrong (404, 405, 500...) is answered in the error shape too. */
export function ApiAnyErrorResponse(): MethodDecorator & ClassDecorator {
  return ApiDefaultResponse({
    description: 'Any other error (unknown path 404, wrong method 405, unexpected 500), in the error shape.',
    schema: schemaRef('ErrorResponse'),
  });
}
