import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

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
    ...overrides,
  };
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    problems.push(`FNTS_LOG_LEVEL=${config.logLevel} must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
