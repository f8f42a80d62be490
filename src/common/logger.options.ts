import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino, { type DestinationStream } from 'pino';
import type { AppConfig } from '../config/app.config.js';

/** Probes and scrapes are polled every few seconds: not worth an info line each. */
const QUIET_PATHS = /^\/(health(\/[a-z]*)?|metrics)\/?(\?|$)/i;

/**
 * One JSON line per event: `level`, `timestamp`, `message`, then fields. To stdout, and also to
 * `LOG_PATH` when set. Each request line carries the request id Fastify assigned (see
 * `request-id.ts`). `authorization` and cookies are redacted wherever headers get logged.
 */
export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: [
      {
        level: config.logLevel,
        messageKey: 'message',
        base: { service: 'neolight-dashboard' },
        timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
        formatters: { level: (label: string) => ({ level: label }) },
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
        serializers: {
          req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
        autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
        customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
          err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      },
      destination(config),
    ],
  };
}

function destination(config: AppConfig): DestinationStream {
  const stdout = pino.destination({ dest: 1, sync: true });
  if (!config.logPath) return stdout;
  return pino.multistream([{ stream: stdout }, { stream: pino.destination({ dest: config.logPath, mkdir: true, sync: true }) }]);
}
