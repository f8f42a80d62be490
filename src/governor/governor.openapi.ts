import type { SchemaObject } from '@nestjs/swagger';

/** Response shape of `GET /governor/allocations`. */
export const GOVERNOR_SCHEMAS: Record<string, SchemaObject> = {
  Allocations: {
    type: 'object',
    description:
      'Contents of runtime/capital_governor_allocations.json, else of runtime/allocations_override.json, as the agents wrote them; ' +
      '`{"allocations":{},"timestamp":<now>}` when neither is there.',
    properties: {
      allocations: { type: 'object', description: 'Weight per agent.', additionalProperties: { type: ['number', 'null'] } },
      source: { type: 'string' },
      timestamp: { type: ['string', 'number'] },
      min_allocation: { type: ['number', 'null'] },
      max_allocation: { type: ['number', 'null'] },
    },
  },
};
