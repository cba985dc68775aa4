import { readFileSync } from 'node:fs';
import { homedir, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { defaultMemoryBudgetMiB } from './agent/capacity.js';

function readMeminfo(): string | undefined {
  try {
    return readFileSync('/proc/meminfo', 'utf8');
  } catch {
    return undefined;
  }
}

/** Every server setting, resolved and validated once, then passed down. Nothing else reads process.env. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** SQLite file; ':memory:' for a throwaway store. */
  readonly dbPath: string;
  /** Host directory under which each container gets its socket dir. */
  readonly iofsDir: string;
  /** Docker network mode for function containers ('none', 'host', 'bridge' or a network name). */
  readonly networkMode: string;
  readonly dockerSocketPath: string;
  readonly hotStartTimeoutMs: number;
  readonly logLevel: string;
  /** Base URL for endpoint annotations; when unset it is derived from the request's Host. */
  readonly publicUrl: string | undefined;
  /** Extra labels put on every container the server starts (tests use them to find their own). */
  readonly containerLabels: Readonly<Record<string, string>>;
  readonly maxRequestBytes: number;
  readonly pidsLimit: number;
  /** Default maximum containers per function (a function's `max_containers` overrides it). */
  readonly maxContainersPerFn: number;
  /** Calls that may wait for a container, per function; beyond that, 503. */
  readonly maxQueuePerFn: number;
  /** How long a call may wait for a container before it gets 503. */
  readonly queueTimeoutMs: number;
  /** Memory all containers together may reserve. */
  readonly maxTotalMemoryMiB: number;
  /** Pause idle containers after this long; negative disables pausing (the default). */
  readonly freezeIdleMs: number;
  /** How long running calls may take to finish at shutdown before their containers are removed. */
  readonly shutdownGraceMs: number;
  /** How often retention trims the embedded streams. */
  readonly retentionCheckMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid server configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves the config from env vars (FNTS_*) overlaid with explicit overrides; collects every problem before failing. */
export function loadConfig(env: Env = process.env, overrides: Partial<ServerConfig> = {}): ServerConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  };
  const labels: Record<string, string> = {};
  for (const pair of (env.FNTS_CONTAINER_LABELS ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) problems.push(`FNTS_CONTAINER_LABELS entry ${JSON.stringify(pair)} must look like key=value`);
    else labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const dockerHost = env.DOCKER_HOST;
  let dockerSocketPath = '/var/run/docker.sock';
  if (dockerHost) {
    if (dockerHost.startsWith('unix://')) dockerSocketPath = dockerHost.slice('unix://'.length);
    else problems.push(`DOCKER_HOST=${dockerHost} is not supported; fnts talks to Docker over a unix socket (unix:///path)`);
  }
  const publicUrl = env.FNTS_PUBLIC_URL?.replace(/\/+$/, '') || undefined;
  if (publicUrl !== undefined && !/^https?:\/\//.test(publicUrl)) {
    problems.push(`FNTS_PUBLIC_URL=${publicUrl} must start with http:// or https://`);
  }
  const config: ServerConfig = {
    host: env.FNTS_HOST || '127.0.0.1',
    port: int('FNTS_PORT', 8080, 0, 65535),
    dbPath: env.FNTS_DB || join(homedir(), '.fnts', 'data', 'fnts.db'),
    iofsDir: env.FNTS_IOFS_DIR || join(tmpdir(), 'fnts-iofs'),
    networkMode: env.FNTS_DOCKER_NETWORK || 'none',
    dockerSocketPath,
    hotStartTimeoutMs: int('FNTS_HOT_START_TIMEOUT_MS', 5000, 100, 300_000),
    logLevel: env.FNTS_LOG_LEVEL || 'info',
    publicUrl,
    containerLabels: labels,
    maxRequestBytes: int('FNTS_MAX_REQUEST_BYTES', 6 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    pidsLimit: int('FNTS_MAX_PIDS', 50, 10, 100_000),
    maxContainersPerFn: int('FNTS_MAX_CONTAINERS_PER_FN', 10, 1, 10_000),
    maxQueuePerFn: int('FNTS_MAX_QUEUE_PER_FN', 100, 0, 1_000_000),
    queueTimeoutMs: int('FNTS_QUEUE_TIMEOUT_MS', 10_000, 1, 3_600_000),
    maxTotalMemoryMiB: int('FNTS_MAX_TOTAL_MEMORY_MIB', defaultMemoryBudgetMiB(readMeminfo(), totalmem()), 64, 16 * 1024 * 1024),
    freezeIdleMs: int('FNTS_FREEZE_IDLE_MS', -1, -1, 3_600_000),
    shutdownGraceMs: int('FNTS_SHUTDOWN_GRACE_MS', 10_000, 0, 3_600_000),
    retentionCheckMs: int('FNTS_RETENTION_CHECK_MS', 60_000, 100, 86_400_000),
    ...overrides,
  };
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    problems.push(`FNTS_LOG_LEVEL=${config.logLevel} must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
