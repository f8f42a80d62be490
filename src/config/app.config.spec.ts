import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, EnvironmentVariables, loadConfig } from './app.config.js';

/** The repository this spec lives in (`src/config/..`), where a fresh clone keeps its `state/`. */
const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

describe('loadConfig', () => {
  it('starts on a fresh clone with no environment at all', () => {
    // Act
    const sut = loadConfig({});

    // Assert
    expect(sut).toMatchObject({
      port: 8100,
      host: '0.0.0.0',
      root: REPO_ROOT,
      metricsPath: join(REPO_ROOT, 'state', 'meta_metrics.json'),
      atlasPath: join(REPO_ROOT, 'state', 'atlas_state.json'),
      logPath: undefined,
      logLevel: 'info',
      bodyLimitBytes: 4 * 1024 * 1024,
      documentMaxBytes: 16 * 1024 * 1024,
      ingestAck: 'durable',
      corsOrigins: true,
      stateStore: 'file',
      stateWrites: 'threadpool',
      metaStreamHeartbeatMs: 15_000,
      metaStreamMaxClients: 100,
    });
    expect(sut.stateDir).toBe(join(REPO_ROOT, 'state'));
    expect(sut.runtimeDir).toBe(join(REPO_ROOT, 'runtime'));
  });

  it('treats empty variables as unset', () => {
    // Act
    const sut = loadConfig({ NEOLIGHT_DASHBOARD_PORT: '', PORT: '', HOST: '', INGEST_ACK: '' });

    // Assert
    expect(sut).toMatchObject({ port: 8100, host: '0.0.0.0', ingestAck: 'durable' });
  });

  it('takes PORT as an alias for NEOLIGHT_DASHBOARD_PORT', () => {
    // Act
    const sut = loadConfig({ PORT: '9001' });

    // Assert
    expect(sut.port).toBe(9001);
  });

  it('prefers NEOLIGHT_DASHBOARD_PORT over PORT when both are set', () => {
    // Act
    const sut = loadConfig({ NEOLIGHT_DASHBOARD_PORT: '8200', PORT: '9001' });

    // Assert
    expect(sut.port).toBe(8200);
  });

  it('accepts port 0 (any free port) and surrounding whitespace', () => {
    // Act
    const zero = loadConfig({ PORT: '0' });
    const spaced = loadConfig({ PORT: ' 8300 ' });

    // Assert
    expect(zero.port).toBe(0);
    expect(spaced.port).toBe(8300);
  });

  it('moves state/ and runtime/ (and every file in them) under NEOLIGHT_ROOT', () => {
    // Arrange
    const root = join('/', 'srv', 'neolight');

    // Act
    const sut = loadConfig({ NEOLIGHT_ROOT: root });

    // Assert
    expect(sut.root).toBe(root);
    expect(sut.stateDir).toBe(join(root, 'state'));
    expect(sut.runtimeDir).toBe(join(root, 'runtime'));
    expect(sut.metricsPath).toBe(join(root, 'state', 'meta_metrics.json'));
    expect(sut.atlasPath).toBe(join(root, 'state', 'atlas_state.json'));
    expect(sut.agentFiles).toEqual({
      performance: join(root, 'state', 'performance_attribution.json'),
      regime: join(root, 'runtime', 'market_regime.json'),
      allocations: join(root, 'runtime', 'capital_governor_allocations.json'),
      allocationsOverride: join(root, 'runtime', 'allocations_override.json'),
      guardianPause: join(root, 'state', 'guardian_pause.json'),
    });
  });

  it('resolves a relative NEOLIGHT_ROOT against the working directory', () => {
    // Act
    const sut = loadConfig({ NEOLIGHT_ROOT: 'some/root' });

    // Assert
    expect(sut.root).toBe(resolve(process.cwd(), 'some/root'));
  });

  it('keeps an absolute METRICS_PATH as given and resolves a relative one against the working directory', () => {
    // Act
    const absolute = loadConfig({ METRICS_PATH: '/data/metrics.json' });
    const relative = loadConfig({ METRICS_PATH: 'data/metrics.json', LOG_PATH: 'logs/api.log' });

    // Assert
    expect(absolute.metricsPath).toBe('/data/metrics.json');
    expect(relative.metricsPath).toBe(resolve(process.cwd(), 'data/metrics.json'));
    expect(relative.logPath).toBe(resolve(process.cwd(), 'logs/api.log'));
  });

  it('refuses METRICS_PATH and ATLAS_PATH naming the same file', () => {
    // Act
    const act = () => loadConfig({ NEOLIGHT_ROOT: '/srv/neolight', ATLAS_PATH: '/srv/neolight/state/meta_metrics.json' });

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/METRICS_PATH and ATLAS_PATH must be different files/);
  });

  it('refuses a DOCUMENT_MAX_BYTES below BODY_LIMIT_BYTES', () => {
    // Act
    const act = () => loadConfig({ BODY_LIMIT_BYTES: '65536', DOCUMENT_MAX_BYTES: '32768' });

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/DOCUMENT_MAX_BYTES \(32768\) must be at least BODY_LIMIT_BYTES \(65536\)/);
  });

  it('takes inline state writes, spaces trimmed', () => {
    // Act
    const sut = loadConfig({ STATE_WRITES: ' inline ' });

    // Assert
    expect(sut.stateWrites).toBe('inline');
  });

  it.each([
    ['a non-numeric port', { NEOLIGHT_DASHBOARD_PORT: 'abc' }, 'NEOLIGHT_DASHBOARD_PORT'],
    ['a non-numeric PORT alias', { PORT: 'abc' }, 'PORT'],
    ['a port above 65535', { NEOLIGHT_DASHBOARD_PORT: '70000' }, 'NEOLIGHT_DASHBOARD_PORT'],
    ['a fractional port', { PORT: '80.5' }, 'PORT'],
    ['an unknown ack mode', { INGEST_ACK: 'maybe' }, 'INGEST_ACK'],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ['a zero queue capacity', { INGEST_QUEUE_CAPACITY: '0' }, 'INGEST_QUEUE_CAPACITY'],
    ['a document limit under 1 KiB', { DOCUMENT_MAX_BYTES: '100' }, 'DOCUMENT_MAX_BYTES'],
    ['an unknown state store', { STATE_STORE: 'redis' }, 'STATE_STORE'],
    ['an unknown write mode', { STATE_WRITES: 'sync' }, 'STATE_WRITES'],
    ['a blank host', { HOST: '   ' }, 'HOST'],
    ['a heartbeat faster than 50 ms', { META_STREAM_HEARTBEAT_MS: '10' }, 'META_STREAM_HEARTBEAT_MS'],
    ['a zero stream cap', { META_STREAM_MAX_CLIENTS: '0' }, 'META_STREAM_MAX_CLIENTS'],
    ['a JSON depth above what serializing can take', { JSON_MAX_DEPTH: '513' }, 'JSON_MAX_DEPTH'],
    ['a zero JSON depth', { JSON_MAX_DEPTH: '0' }, 'JSON_MAX_DEPTH'],
    ['a non-numeric key limit', { JSON_MAX_KEYS: 'lots' }, 'JSON_MAX_KEYS'],
    ['a tiny string limit', { JSON_MAX_STRING_LENGTH: '3' }, 'JSON_MAX_STRING_LENGTH'],
  ])('rejects %s with a ConfigError naming the variable', (_label, env, variable) => {
    // Act
    const act = () => loadConfig(env);

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(new RegExp(`\\b${variable}\\b`));
  });

  it('names every bad variable in one message', () => {
    // Act
    const act = () => loadConfig({ PORT: '70000', INGEST_ACK: 'maybe', LOG_LEVEL: 'loud' });

    // Assert
    expect(act).toThrow(ConfigError);
    for (const variable of ['PORT', 'INGEST_ACK', 'LOG_LEVEL']) expect(act).toThrow(variable);
  });

  it('reads the stream heartbeat and cap', () => {
    // Act
    const sut = loadConfig({ META_STREAM_HEARTBEAT_MS: '250', META_STREAM_MAX_CLIENTS: '3' });

    // Assert
    expect(sut).toMatchObject({ metaStreamHeartbeatMs: 250, metaStreamMaxClients: 3 });
  });

  it('bounds JSON request bodies by default: 32 levels, 50 000 keys and items, 64 Ki-character strings', () => {
    // Act
    const sut = loadConfig({});

    // Assert
    expect(sut.jsonLimits).toEqual({ maxDepth: 32, maxKeys: 50_000, maxStringLength: 65_536 });
  });

  it('reads the JSON body limits', () => {
    // Act
    const sut = loadConfig({ JSON_MAX_DEPTH: '512', JSON_MAX_KEYS: '100', JSON_MAX_STRING_LENGTH: '1048576' });

    // Assert
    expect(sut.jsonLimits).toEqual({ maxDepth: 512, maxKeys: 100, maxStringLength: 1_048_576 });
  });

  it('leaves reads and writes open and unlimited by default', () => {
    // Act
    const sut = loadConfig({});

    // Assert
    expect(sut.access.writeTokens.size).toBe(0);
    expect(sut.access.readTokens.size).toBe(0);
    expect(sut.access.writeRateLimit).toBe(0);
    expect(sut.access.writeRateWindowMs).toBe(60_000);
  });

  it('reads WRITE_TOKENS and READ_TOKENS as comma-separated lists, spaces and empty entries ignored', () => {
    // Act
    const sut = loadConfig({ WRITE_TOKENS: ' hive-0123456789abcdef , atlas-0123456789abcdef,', READ_TOKENS: 'governor-0123456789ab' });

    // Assert
    expect(sut.access.writeTokens.size).toBe(2);
    expect(sut.access.writeTokens.indexOf('atlas-0123456789abcdef')).toBe(1);
    expect(sut.access.readTokens.has('governor-0123456789ab')).toBe(true);
  });

  it('reads the write rate limit and its window', () => {
    // Act
    const sut = loadConfig({ WRITE_RATE_LIMIT: '120', WRITE_RATE_WINDOW_MS: '10000' });

    // Assert
    expect(sut.access).toMatchObject({ writeRateLimit: 120, writeRateWindowMs: 10_000 });
  });

  it.each([
    ['WRITE_TOKENS', 'short-token'],
    ['WRITE_TOKENS', 'good-token-0123456789,short'],
    ['READ_TOKENS', 'has a space in the middle 0123456789'],
    ['READ_TOKENS', 'non-ascii-tökén-0123456789'],
    ['WRITE_TOKENS', ' , '],
  ])('rejects a weak or malformed %s without echoing it', (variable, value) => {
    // Act
    const act = () => loadConfig({ [variable]: value });

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(new RegExp(`\\b${variable}\\b`));
    expect(act).not.toThrow(value.trim() || 'never');
  });

  it.each([
    ['a negative rate limit', { WRITE_RATE_LIMIT: '-1' }, 'WRITE_RATE_LIMIT'],
    ['a sub-second window', { WRITE_RATE_WINDOW_MS: '10' }, 'WRITE_RATE_WINDOW_MS'],
  ])('rejects %s', (_label, env, variable) => {
    // Act
    const act = () => loadConfig(env);

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(variable);
  });

  it('reads INGEST_ACK=enqueue', () => {
    // Act
    const sut = loadConfig({ INGEST_ACK: 'enqueue' });

    // Assert
    expect(sut.ingestAck).toBe('enqueue');
  });

  it.each([
    ['unset', undefined, true],
    ['a star', '*', true],
    ['a single origin', 'https://ops.example.com', ['https://ops.example.com']],
    [
      'a list with spaces and a trailing comma',
      ' https://a.example.com , http://localhost:3000 ,',
      ['https://a.example.com', 'http://localhost:3000'],
    ],
  ])('parses CORS_ORIGINS given as %s', (_label, value, expected) => {
    // Act
    const sut = loadConfig({ CORS_ORIGINS: value });

    // Assert
    expect(sut.corsOrigins).toEqual(expected);
  });
});

describe('the environment variables', () => {
  const names = [
    ...new Set(getMetadataStorage().getTargetValidationMetadatas(EnvironmentVariables, '', false, false).map((m) => m.propertyName)),
  ];

  it('are found (the check below has something to check)', () => {
    expect(names).toEqual(expect.arrayContaining(['NEOLIGHT_DASHBOARD_PORT', 'STATE_WRITES', 'WRITE_TOKENS']));
  });

  it.each([
    ['README.md', (name: string) => `\`${name}\``],
    ['config/.env.example', (name: string) => name],
  ])('are each documented in %s', (file, mention) => {
    // Arrange
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');

    // Act
    const missing = names.filter((name) => !new RegExp(`(^|[^A-Z_])${mention(name)}($|[^A-Z_])`).test(text));

    // Assert
    expect(missing).toEqual([]);
  });
});
