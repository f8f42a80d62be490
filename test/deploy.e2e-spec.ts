import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/app.config.js';
import { createTestApp } from './support/app.js';
import { envOf, instructionsOf, parseDockerfile, type Stage } from './support/dockerfile.js';
import { tempRoot } from './support/server.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${REPO}/${path}`, 'utf8');

/**
 * What can be checked of the container without a Docker engine: the Dockerfile's stages, user,
 * dependencies, start command, port, volume and health check, against the package and the app's
 * real routes; and what the build context leaves out.
 */
describe('container image (static)', () => {
  const { stages } = parseDockerfile(read('Dockerfile'));
  const runtime = stages.at(-1)!;
  const stage = (name: string) => stages.find((s) => s.name === name)!;
  const pkg = JSON.parse(read('package.json')) as Record<'scripts' | 'dependencies' | 'devDependencies', Record<string, string>>;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp({ NEOLIGHT_ROOT: tempRoot('neolight-deploy-') });
  });
  afterAll(async () => {
    await app.close();
  });

  it('builds in stages on Node 24 LTS slim images, the last one being the runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages)
      expect([s.name, s.image]).toEqual([s.name, expect.stringMatching(/^node:24(\.\d+){0,2}-(\w+-)?slim(@sha256:[0-9a-f]{64})?$/)]);
    expect(new Set(stages.map((s) => s.name)).size).toBe(stages.length);
  });

  it('installs every dependency and builds in a builder stage', () => {
    const builders = stages.filter((s) => instructionsOf(s, 'RUN').some((r) => /\bnpm run build\b/.test(r)));
    expect(builders).toHaveLength(1);
    const [builder] = builders;
    expect(builder).not.toBe(runtime);
    const runs = instructionsOf(builder, 'RUN').join(' && ');
    expect(runs).toMatch(/\bnpm ci\b/);
    expect(runs).not.toMatch(/--omit[= ]dev|--production/);
    const copied = instructionsOf(builder, 'COPY').join(' ');
    for (const file of ['package.json', 'package-lock.json', 'nest-cli.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src']) {
      expect(copied.split(' ')).toContain(file);
    }
  });

  it('copies no dev dependency into the runtime stage', () => {
    expect(Object.keys(pkg.devDependencies)).toContain('node');
    expect(Object.keys(pkg.dependencies)).not.toContain('node');
    const fromOther = instructionsOf(runtime, 'COPY')
      .filter((c) => c.startsWith('--from='))
      .map((c) => ({ from: /^--from=(\S+)/.exec(c)![1], paths: c.split(' ').filter((p) => !p.startsWith('--')) }));
    const modules = fromOther.filter((c) => c.paths.some((p) => p.includes('node_modules')));
    expect(modules).toHaveLength(1);
    const source = stage(modules[0].from);
    expect(instructionsOf(source, 'RUN').join(' && ')).toMatch(/\bnpm ci\b[^&]*--omit=dev/);
    expect(instructionsOf(source, 'RUN').join(' && ')).not.toMatch(/\bnpm (ci|install)\b(?![^&]*--omit=dev)/);
    const builder = stages.find((s) => instructionsOf(s, 'RUN').some((r) => /\bnpm run build\b/.test(r)))!;
    for (const copy of fromOther.filter((c) => c.from === builder.name)) {
      expect(copy.paths.slice(0, -1)).toEqual(['/app/dist']);
    }
    expect(instructionsOf(runtime, 'RUN').join(' ')).not.toMatch(/\bnpm (ci|install)\b/);
  });

  it('copies package.json, which the service reads its version from', () => {
    const contextCopies = instructionsOf(runtime, 'COPY').filter((c) => !c.startsWith('--from='));
    expect(contextCopies).toContain('package.json ./');
    expect(instructionsOf(runtime, 'WORKDIR')).toEqual([envOf(runtime).NEOLIGHT_ROOT]);
  });

  it('runs as a non-root user', () => {
    const users = instructionsOf(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const keywords = runtime.instructions.map((i) => i.keyword);
    expect(keywords.lastIndexOf('USER')).toBeLessThan(keywords.indexOf('CMD'));
  });

  it('starts node dist/main.js in exec form, so SIGTERM reaches the service', () => {
    const cmds = instructionsOf(runtime, 'CMD');
    expect(cmds).toHaveLength(1);
    expect(JSON.parse(cmds[0])).toEqual(['node', 'dist/main.js']);
    expect(instructionsOf(runtime, 'ENTRYPOINT')).toEqual([]);
  });

  it('runs node with the flags `npm run start:prod` uses', () => {
    const flags = /^node\s+(.*?)\s*dist\/main\.js$/.exec(pkg.scripts['start:prod'])![1];
    expect(envOf(runtime).NODE_OPTIONS ?? '').toBe(flags);
  });

  it('listens on all interfaces on the port it exposes', () => {
    const env = envOf(runtime);
    expect(env.HOST).toBe('0.0.0.0');
    const config = loadConfig(env);
    expect(instructionsOf(runtime, 'EXPOSE')).toEqual([String(config.port)]);
    expect(config.port).toBe(8100);
  });

  it('keeps the state directory on a volume', () => {
    const config = loadConfig(envOf(runtime));
    expect(instructionsOf(runtime, 'VOLUME').map((v) => JSON.parse(v) as string[])).toEqual([[config.stateDir]]);
  });

  it('health-checks a real liveness route with node itself (slim images have no curl)', async () => {
    const checks = instructionsOf(runtime, 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const command = /CMD (\[.*\])$/.exec(checks[0])![1];
    const argv = JSON.parse(command) as string[];
    expect(argv[0]).toBe('node');
    expect(checks[0]).not.toMatch(/\b(curl|wget)\b/);
    const path = /\/health\/[a-z]+/.exec(argv.join(' '))![0];
    expect(path).toBe('/health/live');
    const res = await app.inject(path);
    expect(res.statusCode).toBe(200);
  });

  it('leaves dependencies, build output, local state and the git history out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const pattern of ['node_modules', 'dist', '.git', 'coverage']) expect(ignored).toContain(pattern);
    expect(ignored.some((p) => p === 'state/*' || p === 'state/*.json')).toBe(true);
    const contextCopies = stages.flatMap((s: Stage) =>
      instructionsOf(s, 'COPY')
        .filter((c) => !c.startsWith('--from='))
        .flatMap((c) => c.split(' ').slice(0, -1)),
    );
    expect(contextCopies.filter((file) => ignored.includes(file))).toEqual([]);
  });
});
