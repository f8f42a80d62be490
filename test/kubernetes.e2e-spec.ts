import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { RouteTable } from '../src/common/route-table.js';
import { loadConfig } from '../src/config/app.config.js';
import { createTestApp } from './support/app.js';
import { envOf, parseDockerfile } from './support/dockerfile.js';
import { tempRoot } from './support/server.js';

const DIR = fileURLToPath(new URL('../config/kubernetes/', import.meta.url));
const CONFIG_SOURCE = readFileSync(fileURLToPath(new URL('../src/config/app.config.ts', import.meta.url)), 'utf8');

type Json = Record<string, any>;
interface Manifest extends Json {
  file: string;
}

/** Every YAML document in config/kubernetes/, parsed with the `yaml` package; a parse error fails here. */
function loadManifests(): Manifest[] {
  const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return { file, ...(doc.toJS() as Json) };
    }),
  );
}

/** A Kubernetes quantity (`128Mi`, `1Gi`, `500M`) in bytes, or a CPU quantity (`100m`, `1`) in cores. */
function quantity(value: string | number): number {
  const match = /^([\d.]+)(m|Ki|Mi|Gi|K|M|G)?$/.exec(String(value));
  if (!match) throw new Error(`not a quantity: ${value}`);
  const factor: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
  return Number(match[1]) * (match[2] ? factor[match[2]] : 1);
}

/**
 * The Kubernetes manifests against the app they deploy: probe paths and ports are real routes on
 * the real port, the environment is valid configuration, state/ is on the claim, and shutdown
 * gets the time it needs.
 */
describe('Kubernetes manifests in config/kubernetes/', () => {
  const manifests = loadManifests();
  const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const deployment = ofKind('Deployment')[0];
  const pod = deployment.spec.template.spec as Json;
  const container = pod.containers[0] as Json;
  const env = Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
  const config = loadConfig(env);
  const service = ofKind('Service')[0];
  /** A container port given by name or number, as a number. */
  const containerPort = (port: string | number) =>
    typeof port === 'number'
      ? port
      : (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === port)?.containerPort;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp({ ...env, NEOLIGHT_ROOT: tempRoot('neolight-k8s-'), LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await app.close();
  });

  it('parses every manifest, each naming its kind, and the kustomization lists them all', () => {
    expect(ofKind('Deployment')).toHaveLength(1);
    for (const kind of ['PersistentVolumeClaim', 'Service', 'ServiceMonitor']) expect([kind, ofKind(kind).length]).toEqual([kind, 1]);
    for (const m of manifests.filter((x) => x.kind !== 'Kustomization')) {
      expect({ file: m.file, apiVersion: typeof m.apiVersion, name: typeof m.metadata?.name }).toEqual({
        file: m.file,
        apiVersion: 'string',
        name: 'string',
      });
    }
    const [kustomization] = ofKind('Kustomization');
    const listed = [...(kustomization.resources as string[])].sort();
    expect(listed).toEqual([...new Set(manifests.map((m) => m.file))].filter((f) => f !== kustomization.file).sort());
  });

  it('runs one replica and recreates it on update: the JSON-file store has a single writer', () => {
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(readFileSync(join(DIR, deployment.file), 'utf8')).toMatch(/single writer/);
  });

  it.each([
    ['startupProbe', '/health/startup'],
    ['livenessProbe', '/health/live'],
    ['readinessProbe', '/health/ready'],
  ])('%s asks %s, a real route, on the port the service listens on', async (probe, path) => {
    const { httpGet } = container[probe] as { httpGet: { path: string; port: string | number } };
    expect(httpGet.path).toBe(path);
    expect(containerPort(httpGet.port)).toBe(config.port);
    expect(app.get(RouteTable).endpoints()).toContain(`GET ${path}`);
    const res = await app.inject(path);
    expect([path, res.statusCode]).toEqual([path, 200]);
  });

  it('passes only variables the service reads, and they are valid configuration', () => {
    expect(Object.keys(env).filter((name) => !new RegExp(`^\\s+${name}\\?:`, 'm').test(CONFIG_SOURCE))).toEqual([]);
    expect(config).toMatchObject({ port: 8100, host: '0.0.0.0', stateStore: 'file' });
  });

  it("keeps state/ on the PersistentVolumeClaim, mounted where the image's state volume is", () => {
    const [claim] = ofKind('PersistentVolumeClaim');
    const volume = (pod.volumes as Json[]).find((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name)!;
    expect(volume).toBeDefined();
    const mounts = (container.volumeMounts as { name: string; mountPath: string }[]).filter((m) => m.name === volume.name);
    expect(mounts.map((m) => m.mountPath)).toEqual([config.stateDir]);
    const image = parseDockerfile(readFileSync(fileURLToPath(new URL('../Dockerfile', import.meta.url)), 'utf8')).stages.at(-1)!;
    expect(loadConfig(envOf(image)).stateDir).toBe(config.stateDir);
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(quantity(claim.spec.resources.requests.storage)).toBeGreaterThanOrEqual(2 ** 20);
  });

  it('gives a shutdown more time than the service can take (grace plus linger)', () => {
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.shutdownGraceMs + config.shutdownLingerMs);
  });

  it('requests and caps cpu and memory for a Node process of ~130 MB idle, ~250 MB under load', () => {
    const { requests, limits } = container.resources as Record<'requests' | 'limits', Record<'cpu' | 'memory', string>>;
    expect(quantity(requests.cpu)).toBeGreaterThan(0);
    expect(quantity(limits.cpu)).toBeGreaterThanOrEqual(quantity(requests.cpu));
    expect(quantity(requests.memory)).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(quantity(limits.memory)).toBeGreaterThanOrEqual(Math.max(quantity(requests.memory), 256 * 2 ** 20));
  });

  it('runs as a non-root user, and turns off service links (they would set NEOLIGHT_DASHBOARD_PORT to a URL)', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).not.toBe(0);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(() => loadConfig({ ...env, NEOLIGHT_DASHBOARD_PORT: 'tcp://10.0.0.7:8100' })).toThrow(/NEOLIGHT_DASHBOARD_PORT/);
  });

  it('exposes the container port through a Service that selects the pod', () => {
    const labels = deployment.spec.template.metadata.labels as Record<string, string>;
    expect(labels).toMatchObject(service.spec.selector);
    expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
    const [port] = service.spec.ports as { name: string; port: number; targetPort: string | number }[];
    expect(port.port).toBe(8100);
    expect(containerPort(port.targetPort)).toBe(config.port);
  });

  it('has the ServiceMonitor scrape /metrics, a real Prometheus endpoint, through a named Service port', async () => {
    const [monitor] = ofKind('ServiceMonitor');
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    const [endpoint] = monitor.spec.endpoints as { port: string; path: string }[];
    expect((service.spec.ports as { name: string }[]).map((p) => p.name)).toContain(endpoint.port);
    expect(endpoint.path).toBe('/metrics');
    const res = await app.inject(endpoint.path);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^# HELP /m);
  });
});
