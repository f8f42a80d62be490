import type { SchemaObject } from '@nestjs/swagger';
import { ATLAS_UPDATE_SCHEMA } from './atlas.schema.js';

/** Request and response shapes of the `/atlas/*` routes. */
export const ATLAS_SCHEMAS: Record<string, SchemaObject> = {
  /** The schema `POST /atlas/update` validates with. */
  AtlasUpdate: {
    ...(ATLAS_UPDATE_SCHEMA as unknown as SchemaObject),
    description:
      'Any JSON object. The trader sends `{"type": "telemetry"|"trade"|"guardian_pause"|"mode_transition"|"test_trade", ...}`; ' +
      'the atlas bridge sends `{brain, allocations, timestamp}` without a `type` (stored as `bridge`). The latest payload per type is kept ' +
      '(at most 64 types); atlas updates never touch the meta-metrics document.',
  },
  AtlasState: {
    type: 'object',
    description: 'The latest atlas payload per `type`.',
    required: ['updated_at', 'latest'],
    properties: {
      updated_at: { type: ['string', 'null'], format: 'date-time', description: 'When the last update arrived; null before any.' },
      latest: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['received_at', 'payload'],
          properties: {
            received_at: { type: 'string', format: 'date-time' },
            payload: { $ref: '#/components/schemas/AtlasUpdate' },
          },
        },
      },
    },
  },
};
