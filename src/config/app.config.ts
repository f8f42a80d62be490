import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonLimits } from '../common/json-body.parser.js';
import { TokenSet } from '../security/token-set.js';
import type { WriteMode } from '../state/atomic-write.js';

/**
 * Highest JSON_MAX_DEPTH accepted: stored documents wrap a body a few levels deeper, and
 * JSON.stringify (which recurses) must stay far from the stack limit (about 4 000 levels in Node 24).
 */
const MAX_JSON_DEPTH = 512;

/** The repository root: `dist/config/..` or `src/config/..` → the folder that holds `state/`. */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

/** `a, b,` → `a,b`: the tokens of a comma-separated list, trimmed, empty entries dropped. */
const tokenList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .join(',')
    : value;
/** Tokens of at least 16 visible ASCII characters (no spaces, no commas), comma-separated. */
const TOKEN_LIST = /^[\x21-\x2b\x2d-\x7e]{16,}(,[\x21-\x2b\x2d-\x7e]{16,})*$/;
const TOKEN_RULE = (name: string) =>
  `${name} must be a comma-separated list of tokens of at least 16 visible ASCII characters each (e.g. from \`openssl rand -hex 32\`)`;

/** The environment as the operator writes it. Validated once at boot (see `loadConfig`). */
export class EnvironmentVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  NEOLIGHT_DASHBOARD_PORT?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

  @IsOptional() @Transform(trimmed) @IsString() @MinLength(1)
  HOST?: string;

  @IsOptional() @Transform(trimmed) @IsString() @MinLength(1)
  NEOLIGHT_ROOT?: string;

  @IsOptional() @Transform(trimmed) @IsString() @MinLength(1)
  METRICS_PATH?: string;

  @IsOptional() @Transform(trimmed) @IsString() @MinLength(1)
  ATLAS_PATH?: string;

  @IsOptional() @Transform(trimmed) @IsString() @MinLength(1)
  LOG_PATH?: string;

  @IsOptional() @Transform(trimmed) @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) @Max(1024 * 1024 * 1024)
  BODY_LIMIT_BYTES?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  INGEST_QUEUE_CAPACITY?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) @Max(256 * 1024 * 1024)
  DOCUMENT_MAX_BYTES?: number;

  @IsOptional() @Transform(trimmed) @IsIn(['durable', 'enqueue'])
  INGEST_ACK?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(600_000)
  SHUTDOWN_GRACE_MS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(60_000)
  SHUTDOWN_LINGER_MS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(50) @Max(60_000)
  FILE_REFRESH_MS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(600_000)
  REQUEST_TIMEOUT_MS?: number;

  @IsOptional() @Transform(trimmed) @IsString() @MinLength(1)
  CORS_ORIGINS?: string;

  @IsOptional() @Transform(tokenList) @IsString() @Matches(TOKEN_LIST, { message: TOKEN_RULE('WRITE_TOKENS') })
  WRITE_TOKENS?: string;

  @IsOptional() @Transform(tokenList) @IsString() @Matches(TOKEN_LIST, { message: TOKEN_RULE('READ_TOKENS') })
  READ_TOKENS?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000)
  WRITE_RATE_LIMIT?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000)
  WRITE_RATE_WINDOW_MS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(MAX_JSON_DEPTH)
  JSON_MAX_DEPTH?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  JSON_MAX_KEYS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(16) @Max(1024 * 1024 * 1024)
  JSON_MAX_STRING_LENGTH?: number;

  @IsOptional() @Transform(trimmed) @IsIn(['file', 'memory'])
  STATE_STORE?: string;

  @IsOptional() @Transform(trimmed) @IsIn(['threadpool', 'inline'])
  STATE_WRITES?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(10_000)
  METRICS_MAX_LABELLED?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(30 * 86_400)
  STALE_AFTER_SECONDS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  READY_MIN_FREE_DISK_BYTES?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100)
  READY_MAX_HEAP_PERCENT?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(50) @Max(600_000)
  META_STREAM_HEARTBEAT_MS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000)
  META_STREAM_MAX_CLIENTS?: number;
}

/** Who may read and write, and how fast (README, "Security"). Everything open when unset. */
export interface AccessConfig {
  /** Tokens that open the write routes; none: anyone may write (the default, as the old server). */
  readonly writeTokens: TokenSet;
  /** Tokens that open the read routes (write tokens do too); none: anyone may read. */
  readonly readTokens: TokenSet;
  /** Writes per client per window, per write route; 0: no limit (the default). */
  readonly writeRateLimit: number;
  readonly writeRateWindowMs: number;
}

export type AgentFile = 'performance' | 'regime' | 'allocations' | 'allocationsOverride' | 'guardianPause';

/** Typed, validated configuration. Injected everywhere by its class; nothing else reads the env. */
export class AppConfig {
  constructor(
    readonly port: number,
    readonly host: string,
    /** The NeoLight root: holds `state/` (ours and the agents') and `runtime/` (the agents'). */
    readonly root: string,
    readonly metricsPath: string,
    readonly atlasPath: string,
    readonly logPath: string | undefined,
    readonly logLevel: string,
    readonly bodyLimitBytes: number,
    readonly ingestQueueCapacity: number,
    /** Largest the meta-metrics document may grow (partial documents merge into it): a change beyond is a 413. */
    readonly documentMaxBytes: number,
    /** `durable`: a 2xx means fsynced on disk. `enqueue`: a 2xx means queued in memory (faster, may lose the tail on a crash). */
    readonly ingestAck: 'durable' | 'enqueue',
    readonly shutdownGraceMs: number,
    /** After SIGTERM, keep answering (writes with 503, readiness 503) this long before closing the listener. */
    readonly shutdownLingerMs: number,
    readonly fileRefreshMs: number,
    readonly requestTimeoutMs: number,
    /** `true` means any origin (`*`), else the list of allowed origins. */
    readonly corsOrigins: true | string[],
    /** `file`: JSON files under `state/` (default). `memory`: nothing persisted (tests, demos). */
    readonly stateStore: 'file' | 'memory',
    /** Where the file store's writes and fsyncs run: `threadpool` (default) or `inline` (README, "Ingest"). */
    readonly stateWrites: WriteMode,
    readonly version: string,
    /** At most this many agents (and strategies) get their own label on /metrics; the rest are counted. */
    readonly metricsMaxLabelled: number,
    /** No meta-metrics document for this long: a warning in the log (and the age gauge shows it). */
    readonly staleAfterSeconds: number,
    /** Readiness fails when the state volume has less free space than this. */
    readonly readyMinFreeDiskBytes: number,
    /** Readiness fails when the V8 heap is fuller than this share of its limit. */
    readonly readyMaxHeapPercent: number,
    /** `GET /meta/stream`: a comment line this often keeps idle streams open through proxies. */
    readonly metaStreamHeartbeatMs: number,
    /** `GET /meta/stream`: streams open at once; beyond, 503 + Retry-After. */
    readonly metaStreamMaxClients: number,
    /** The shape a JSON request body may have; anything beyond is a 400 before validation. */
    readonly jsonLimits: JsonLimits,
    readonly access: AccessConfig,
  ) {}

  get stateDir(): string {
    return join(this.root, 'state');
  }

  get runtimeDir(): string {
    return join(this.root, 'runtime');
  }

  /** The files the Python agents write and we serve (see CONTRACT.md, "Files"). */
  get agentFiles(): Record<AgentFile, string> {
    return {
      performance: join(this.stateDir, 'performance_attribution.json'),
      regime: join(this.runtimeDir, 'market_regime.json'),
      allocations: join(this.runtimeDir, 'capital_governor_allocations.json'),
      allocationsOverride: join(this.runtimeDir, 'allocations_override.json'),
      guardianPause: join(this.stateDir, 'guardian_pause.json'),
    };
  }
}

export class ConfigError extends Error {}

/**
 * Builds the configuration from an environment (the process's by default).
 * Throws a `ConfigError` whose message names every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const vars = plainToInstance(EnvironmentVariables, raw);
  const errors = validateSync(vars, { skipMissingProperties: false });
  if (errors.length > 0) {
    const problems = errors.map((e) => Object.values(e.constraints ?? {}).join(', ') || `${e.property} is invalid`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const root = resolve(vars.NEOLIGHT_ROOT ?? REPO_ROOT);
  const fromCwd = (p: string) => (isAbsolute(p) ? p : resolve(p));
  const origins = vars.CORS_ORIGINS ?? '*';
  const metricsPath = fromCwd(vars.METRICS_PATH ?? join(root, 'state', 'meta_metrics.json'));
  const atlasPath = fromCwd(vars.ATLAS_PATH ?? join(root, 'state', 'atlas_state.json'));
  const bodyLimit = vars.BODY_LIMIT_BYTES ?? 4 * 1024 * 1024;
  const documentMax = vars.DOCUMENT_MAX_BYTES ?? 16 * 1024 * 1024;
  if (documentMax < bodyLimit) {
    // A whole document the body limit lets in would be refused for its size: a trap, not a setting.
    throw new ConfigError(`Invalid configuration: DOCUMENT_MAX_BYTES (${documentMax}) must be at least BODY_LIMIT_BYTES (${bodyLimit})`);
  }
  if (metricsPath === atlasPath) {
    // One file for both documents: each would take the other's for corrupt and move it aside.
    throw new ConfigError(`Invalid configuration: METRICS_PATH and ATLAS_PATH must be different files (both are ${metricsPath})`);
  }
  return new AppConfig(
    vars.NEOLIGHT_DASHBOARD_PORT ?? vars.PORT ?? 8100,
    vars.HOST ?? '0.0.0.0',
    root,
    metricsPath,
    atlasPath,
    vars.LOG_PATH ? fromCwd(vars.LOG_PATH) : undefined,
    vars.LOG_LEVEL ?? 'info',
    bodyLimit,
    vars.INGEST_QUEUE_CAPACITY ?? 1024,
    documentMax,
    (vars.INGEST_ACK ?? 'durable') as 'durable' | 'enqueue',
    vars.SHUTDOWN_GRACE_MS ?? 10_000,
    vars.SHUTDOWN_LINGER_MS ?? 300,
    vars.FILE_REFRESH_MS ?? 500,
    vars.REQUEST_TIMEOUT_MS ?? 30_000,
    origins === '*' ? true : origins.split(',').map((o) => o.trim()).filter(Boolean),
    (vars.STATE_STORE ?? 'file') as 'file' | 'memory',
    (vars.STATE_WRITES ?? 'threadpool') as WriteMode,
    packageVersion(),
    vars.METRICS_MAX_LABELLED ?? 100,
    vars.STALE_AFTER_SECONDS ?? 900,
    vars.READY_MIN_FREE_DISK_BYTES ?? 16 * 1024 * 1024,
    vars.READY_MAX_HEAP_PERCENT ?? 90,
    vars.META_STREAM_HEARTBEAT_MS ?? 15_000,
    vars.META_STREAM_MAX_CLIENTS ?? 100,
    {
      maxDepth: vars.JSON_MAX_DEPTH ?? 32,
      maxKeys: vars.JSON_MAX_KEYS ?? 50_000,
      maxStringLength: vars.JSON_MAX_STRING_LENGTH ?? 65_536,
    },
    {
      writeTokens: new TokenSet(vars.WRITE_TOKENS ? vars.WRITE_TOKENS.split(',') : []),
      readTokens: new TokenSet(vars.READ_TOKENS ? vars.READ_TOKENS.split(',') : []),
      writeRateLimit: vars.WRITE_RATE_LIMIT ?? 0,
      writeRateWindowMs: vars.WRITE_RATE_WINDOW_MS ?? 60_000,
    },
  );
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
