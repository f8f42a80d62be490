import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configureApp, createAdapter } from '../../src/app.factory.js';
import { AppModule } from '../../src/app.module.js';
import { loadConfig } from '../../src/config/app.config.js';

export const FIXTURE = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/meta_metrics.json', import.meta.url)), 'utf8'),
) as Record<string, any>;

/**
 * The real app (same adapter, hooks, filter and modules as `main.ts`) for `app.inject()` tests,
 * optionally with providers replaced (a slowed store, say).
 */
export async function createTestApp(env: Record<string, string>, overrides: [token: object, value: unknown][] = []): Promise<NestFastifyApplication> {
  const config = loadConfig({ LOG_LEVEL: 'silent', FILE_REFRESH_MS: '100', ...env });
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  for (const [token, value] of overrides) builder = builder.overrideProvider(token).useValue(value);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createAdapter(config), { bufferLogs: true });
  await configureApp(app, config);
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** `fixture` with every agent's numbers moved by `n`, so documents are distinguishable. */
export function fixtureWith(n: number, extra: Record<string, unknown> = {}): Record<string, any> {
  const doc = structuredClone(FIXTURE);
  for (const agent of Object.values<Record<string, number>>(doc.per_agent)) agent.pnl_7d += n;
  return { ...doc, timestamp: new Date(Date.UTC(2026, 10, 21, 14, 30, n % 60)).toISOString(), seq: n, ...extra };
}
