import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parse } from 'yaml';
import { createTestApp, FIXTURE } from './support/app.js';
import { tempRoot } from './support/server.js';

const configDir = fileURLToPath(new URL('../config/', import.meta.url));
const read = (path: string) => readFileSync(join(configDir, path), 'utf8');
/** Series Prometheus makes itself, not the service. */
const PROMETHEUS_OWN = new Set(['up']);

/** Every metric name an expression reads (identifiers with our prefixes, plus `up`). */
function metricNames(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '').replace(/\b(by|without)\s*\([^)]*\)/g, '');
  return [...withoutLabels.matchAll(/\b(neolight_\w+|http_\w+|process_\w+|nodejs_\w+|up)\b/g)].map((m) => m[1]);
}

describe('the monitoring configuration in config/', () => {
  let app: NestFastifyApplication;
  let exported: Map<string, string>;

  beforeAll(async () => {
    const root = tempRoot('neolight-monitoring-');
    mkdirSync(join(root, 'runtime'), { recursive: true });
    writeFileSync(join(root, 'runtime', 'capital_governor_allocations.json'), JSON.stringify({ allocations: { SmartTrader: 0.3 } }));
    app = await createTestApp({ NEOLIGHT_ROOT: root });
    await app.inject({ method: 'POST', url: '/meta/metrics', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(FIXTURE) });
    const families = parsePrometheusTextFormat((await app.inject('/metrics')).body) as { name: string; type: string }[];
    exported = new Map(families.map((f) => [f.name, f.type]));
  });
  afterAll(async () => {
    await app.close();
  });

  /** True when the service exports `name`, counting a histogram's _bucket/_sum/_count series. */
  const isExported = (name: string) => {
    if (exported.has(name) || PROMETHEUS_OWN.has(name)) return true;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return exported.get(base) === 'HISTOGRAM';
  };

  it('scrapes the service where it listens', () => {
    const config = parse(read('prometheus/prometheus.yml'));
    const job = config.scrape_configs.find((j: { job_name: string }) => j.job_name === 'neolight-dashboard');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs[0].targets).toContain('localhost:8100');
    expect(config.rule_files).toContain('alerts.yml');
  });

  it('has the four alerts, each well-formed and reading only metrics the service exports', () => {
    const rules = parse(read('prometheus/alerts.yml')).groups.flatMap((g: { rules: unknown[] }) => g.rules) as Record<string, any>[];
    expect(rules.map((r) => r.alert).sort()).toEqual(['NeoLightGuardianPaused', 'NeoLightIngestRejecting', 'NeoLightNotReady', 'NeoLightTelemetryStale']);
    for (const rule of rules) {
      expect(rule).toMatchObject({ expr: expect.any(String), for: expect.stringMatching(/^\d+[smh]$/), labels: { severity: expect.any(String) } });
      const names = metricNames(rule.expr);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect([rule.alert, name, isExported(name)]).toEqual([rule.alert, name, true]);
    }
  });

  it('has a Grafana dashboard whose every panel query reads metrics the service exports', () => {
    const dashboard = JSON.parse(read('grafana/neolight-dashboard.json'));
    expect(dashboard.title).toBe('NeoLight Dashboard');
    const exprs = (dashboard.panels as { targets: { expr: string }[] }[]).flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    for (const expr of exprs) {
      const names = metricNames(expr);
      expect([expr, names.length > 0]).toEqual([expr, true]);
      for (const name of names) expect([expr, name, isExported(name)]).toEqual([expr, name, true]);
    }
  });

  it('would catch a metric the service does not export', () => {
    expect(metricNames('rate(neolight_no_such_metric_total[5m]) > 0').map(isExported)).toEqual([false]);
  });
});
