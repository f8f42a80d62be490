import type { SchemaObject } from '@nestjs/swagger';

const UPTIME = { type: 'string', pattern: '^\\d+h\\d+m$', description: 'The old server\'s format: `"<hours>h<minutes>m"`.' };
const PERCENT = { type: 'number', minimum: 0, maximum: 100 };

/** Response shapes of `/`, `/health`, `/health/*` and `/status` (CONTRACT.md "Endpoints"). */
export const HEALTH_SCHEMAS: Record<string, SchemaObject> = {
  ServiceBanner: {
    type: 'object',
    required: ['service', 'version', 'status', 'uptime', 'endpoints'],
    properties: {
      service: { type: 'string', enum: ['neolight-dashboard'] },
      version: { type: 'string' },
      status: { type: 'string', enum: ['running'] },
      uptime: UPTIME,
      endpoints: {
        type: 'array',
        description: 'Every route served, as `"<METHOD> <path>"` (HEAD and OPTIONS left out).',
        items: { type: 'string', pattern: '^[A-Z]+ /' },
      },
    },
  },
  LegacyHealth: {
    type: 'object',
    description: "The old server's health shape (plus additive keys). 200 while the process lives.",
    required: ['status', 'uptime', 'version', 'timestamp'],
    properties: {
      status: { type: 'string', enum: ['ok'] },
      uptime: UPTIME,
      version: { type: 'string' },
      timestamp: { type: 'string', format: 'date-time' },
      service: { type: 'string', enum: ['neolight-dashboard'] },
      uptime_seconds: { type: 'integer', minimum: 0 },
    },
  },
  Status: {
    type: 'object',
    description: "The old server's status shape with real numbers, sampled in the background (the request never waits for a measurement).",
    required: ['system', 'guardian'],
    properties: {
      system: {
        type: 'object',
        required: ['cpu', 'memory', 'disk', 'uptime'],
        properties: {
          cpu: { ...PERCENT, description: 'Busy share of all cores over the last sample period, in percent.' },
          memory: { ...PERCENT, description: 'Memory in use, in percent.' },
          disk: { ...PERCENT, description: 'Space used on the volume holding state/, in percent.' },
          uptime: { type: 'string', format: 'date-time', description: 'When the service started (a timestamp, for compatibility).' },
          uptime_seconds: { type: 'integer', minimum: 0 },
        },
      },
      guardian: {
        type: 'object',
        required: ['logs', 'agents'],
        properties: {
          logs: { type: 'object' },
          agents: { type: 'array' },
          is_paused: { type: 'boolean', description: 'guardian.is_paused of the current meta-metrics document.' },
        },
      },
    },
  },
  HealthCheck: {
    type: 'object',
    description: 'A passing terminus health check. A failing one is a 503 in the error shape.',
    required: ['status', 'details'],
    properties: {
      status: { type: 'string', enum: ['ok'] },
      info: { type: 'object', additionalProperties: { $ref: '#/components/schemas/HealthIndicator' } },
      error: { type: 'object', additionalProperties: { $ref: '#/components/schemas/HealthIndicator' } },
      details: { type: 'object', additionalProperties: { $ref: '#/components/schemas/HealthIndicator' } },
    },
  },
  ProbeFailure: {
    type: 'object',
    description:
      "A failing probe (503): the error shape with terminus' report beside it. Unlike a validation error, `details` here is " +
      'the report (one entry per check), not an array.',
    required: ['error', 'code', 'status', 'details'],
    properties: {
      error: { type: 'string', description: '`not ready: ` and the failing checks' },
      code: { type: 'integer', enum: [503] },
      status: { type: 'string', enum: ['error'] },
      info: { type: ['object', 'null'], additionalProperties: { $ref: '#/components/schemas/HealthIndicator' } },
      details: { type: 'object', additionalProperties: { $ref: '#/components/schemas/HealthIndicator' } },
    },
  },
  HealthIndicator: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] }, message: { type: 'string', description: 'Why a check is down' } },
  },
};
