import { DEFAULT_MAX_REQUEST_BYTES, MAX_REQUEST_BYTES_CEILING } from '@fnts/api/limits';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { defaultMemoryBudgetMiB } from './agent/capacity.js';
import type { RuntimeSetting } from './agent/docker.js';
import { SCALE_OUT_POLICIES, type ScaleOutPolicy } from './agent/scale-out.js';
import { parseKeysEnv, parseKeysFile, type ApiKeyEntry } from './auth/keys.js';
import { SERVER_ID_PATTERN } from './server-identity.js';

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
  /** SQLite file; ':memory:' for a throwaway store. Unused when `postgresUrl` is set. */
  readonly dbPath: string;
  /** FNTS_DB given as a `postgres://` (or `postgresql://`) URL: the PostgreSQL store, which several servers can share. */
  readonly postgresUrl: string | undefined;
  /** Host directory under which each container gets its socket dir. */
  readonly iofsDir: string;
  /** This server's own name on its containers and socket dirs (FNTS_SERVER_ID); unset, it is kept in the state dir. */
  readonly serverId: string | undefined;
  /** Folder of this server's own state, the server id file (FNTS_STATE_DIR); unset, the id file sits beside the SQLite file. */
  readonly stateDir: string | undefined;
  /** Docker network mode for function containers ('none', 'host', 'bridge' or a network name). */
  readonly networkMode: string;
  /** The OCI runtime of function containers (FNTS_DOCKER_RUNTIME): `auto` (crun when registered), `default`, or a name. */
  readonly dockerRuntime: RuntimeSetting;
  readonly dockerSocketPath: string;
  readonly hotStartTimeoutMs: number;
  readonly logLevel: string;
  /** `auto` (default): human-readable lines on a terminal, JSON otherwise; `json` or `pretty` whatever stdout is. */
  readonly logFormat: LogFormat;
  /** JSON log lines go to this file (appended) instead of stdout; the terminal gets only the startup line. */
  readonly logFile: string | undefined;
  /** Base URL for endpoint annotations; when unset it is derived from the request's Host. */
  readonly publicUrl: string | undefined;
  /** Extra labels put on every container the server starts (tests use them to find their own). */
  readonly containerLabels: Readonly<Record<string, string>>;
  readonly maxRequestBytes: number;
  readonly pidsLimit: number;
  /**
   * A deploy or update of a fn (a new version) starts its first container in the background, so the first call is hot
   * (FNTS_WARM_ON_DEPLOY; default true with SQLite, false with PostgreSQL); a fn's `fnts.io/warm-on-deploy` annotation
   * overrides it.
   */
  readonly warmOnDeploy: boolean;
  /**
   * Warm-up calls the server sends a bundled node function's container that it started ahead of calls (a deploy, a
   * fn's minimum), so a fresh process's slow first thousand calls are not the callers' (agent/warm-up.ts); the first
   * real call ends them. FNTS_WARMUP_CALLS; 0 turns them off.
   */
  readonly warmUpCalls: number;
  /** Stem cells kept ready for cold starts of typescript/node functions (agent/stem-cells.ts); 0 turns them off. */
  readonly stemCells: number;
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
  /** When a function's pool starts another container for calls that would wait (agent/scale-out.ts). */
  readonly scaleOut: ScaleOutPolicy;
  /** How long running calls may take to finish at shutdown before their containers are removed. */
  readonly shutdownGraceMs: number;
  /**
   * `never` (default): only images on the local engine, which is where `fnts deploy` builds them — fnts works offline.
   * `missing`: pull an image the engine lacks from its registry, as Fn does (a server on another engine than the CLI's).
   */
  readonly imagePull: 'missing' | 'never';
  readonly pullTimeoutMs: number;
  /** Function output lines longer than this many bytes are split into marked pieces. */
  readonly logMaxLineBytes: number;
  /** Bytes of recent output kept per function for the logs API (a ring: the oldest lines go first). */
  readonly logRingBytes: number;
  /** Bytes per second of one container's output that go to the server log; the excess is counted, not kept. */
  readonly logRateBytesPerContainer: number;
  /** How long a client may take to send a call's body before it gets 408 (no container is held meanwhile). */
  readonly bodyReadTimeoutMs: number;
  /** Unsized (chunked) request bodies past this many bytes stream into the container instead of being read first. */
  readonly streamBodyThresholdBytes: number;
  /** Calls whose unsized body streams into a container, server-wide; past it, bodies are read whole first. */
  readonly maxStreamingBodies: number;
  /** Size of the tmpfs mounted on each container's socket dir (when the server may mount; see agent/iofs.ts). */
  readonly iofsSizeBytes: number;
  /** How often retention trims the embedded streams and the call history. */
  readonly retentionCheckMs: number;
  /**
   * Servers sharing a PostgreSQL database: a stream partition's lease not renewed for this long is taken over by
   * another server (renewed every third of it). A dead server's partitions run elsewhere within about 1.5 times this.
   */
  readonly streamLeaseTtlMs: number;
  /** Detached calls running at once across functions (each function also at most its own capacity). */
  readonly detachedConcurrency: number;
  /** Detached calls stored and not yet finished; past it, a new one gets 503 instead of 202. */
  readonly detachedMaxQueued: number;
  /** Runs of a detached call the platform keeps throttling (503 busy) before it is recorded as an error. */
  readonly detachedMaxAttempts: number;
  /** Backoff between those runs: doubling from the base, capped at the max. */
  readonly detachedRetryBaseMs: number;
  readonly detachedRetryMaxMs: number;
  /** How long after its server died a running detached call is taken over by another server on the database, at most. */
  readonly detachedTakeoverMs: number;
  /** Call records kept per function (the newest), and the age past which they go. */
  readonly callHistoryPerFn: number;
  readonly callHistoryMaxAgeMs: number;
  /** How this server talks to Kafka for `kafka://` stream triggers (never set per trigger or in func.yaml). */
  readonly kafka: KafkaSettings;
  /** Keys from FNTS_API_KEYS_FILE and FNTS_API_KEYS; when there are any, every API call but `/`, `/version` and public triggers needs one. */
  readonly apiKeys: readonly ApiKeyEntry[];
  /** The operator chose to listen beyond loopback without keys (FNTS_INSECURE_NO_AUTH). */
  readonly insecureNoAuth: boolean;
  /** PEM certificate chain and key (FNTS_TLS_CERT, FNTS_TLS_KEY): the server speaks HTTPS. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  /**
   * Test hook (FNTS_TEST_DLQ_GAP_MS, default 0 = off; only tests set it): inside the transaction that writes dead
   * letters and commits past them, stall this long between the two, so a test can kill the server right there.
   */
  readonly testDeadLetterGapMs: number;
}

export type LogFormat = 'auto' | 'json' | 'pretty';
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

export type KafkaSecurityProtocol = 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';
export type KafkaSaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** Kafka client settings shared by every Kafka trigger of this server (FNTS_KAFKA_*). */
export interface KafkaSettings {
  readonly securityProtocol: KafkaSecurityProtocol;
  /** Set when the protocol is sasl_*. */
  readonly sasl: { readonly mechanism: KafkaSaslMechanism; readonly username: string; readonly password: string } | undefined;
  /** PEM files for TLS (ssl, sasl_ssl): the CA bundle, and a client certificate and key for mutual TLS. */
  readonly sslCaLocation: string | undefined;
  readonly sslCertificateLocation: string | undefined;
  readonly sslKeyLocation: string | undefined;
  readonly sslKeyPassword: string | undefined;
  readonly clientId: string;
  /** A consumer that misses heartbeats this long leaves the group; with static membership, also how long a stopped server's partitions wait. */
  readonly sessionTimeoutMs: number;
  /** Static membership (group.instance.id = server id + trigger id): a restart within the session timeout causes no rebalance. */
  readonly staticMembership: boolean;
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
  const int = intReader(env, problems);
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
  const postgresUrl = isPostgresUrl(env.FNTS_DB) ? env.FNTS_DB : undefined;
  // An empty host (`user@/db?host=/run/postgresql`: a unix socket) is valid for node-postgres, not for URL.
  if (postgresUrl !== undefined && !URL.canParse(postgresUrl) && !URL.canParse(postgresUrl.replace('@/', '@localhost/'))) {
    problems.push(`FNTS_DB=${withoutPassword(postgresUrl)} is not a valid URL: postgres://user:password@host:port/database`);
  }
  const config: ServerConfig = {
    host: env.FNTS_HOST || '127.0.0.1',
    port: int('FNTS_PORT', 8080, 0, 65535),
    dbPath: (postgresUrl === undefined ? env.FNTS_DB : undefined) || join(homedir(), '.fnts', 'data', 'fnts.db'),
    postgresUrl,
    iofsDir: env.FNTS_IOFS_DIR || join(tmpdir(), 'fnts-iofs'),
    serverId: env.FNTS_SERVER_ID || undefined,
    stateDir: env.FNTS_STATE_DIR || undefined,
    networkMode: env.FNTS_DOCKER_NETWORK || 'none',
    dockerRuntime: env.FNTS_DOCKER_RUNTIME || 'auto',
    dockerSocketPath,
    hotStartTimeoutMs: int('FNTS_HOT_START_TIMEOUT_MS', 5000, 100, 300_000),
    logLevel: env.FNTS_LOG_LEVEL || 'info',
    logFormat: (env.FNTS_LOG_FORMAT || 'auto') as LogFormat,
    logFile: env.FNTS_LOG_FILE || undefined,
    publicUrl,
    containerLabels: labels,
    maxRequestBytes: int('FNTS_MAX_REQUEST_BYTES', DEFAULT_MAX_REQUEST_BYTES, 1024, MAX_REQUEST_BYTES_CEILING),
    pidsLimit: int('FNTS_MAX_PIDS', 50, 10, 100_000),
    // Several servers (a shared PostgreSQL store) behind a load balancer: the deploy lands on any one of them, rarely the
    // one its calls hash to, so there the default is off.
    warmOnDeploy: env.FNTS_WARM_ON_DEPLOY === undefined || env.FNTS_WARM_ON_DEPLOY === ''
      ? postgresUrl === undefined : flag(env, 'FNTS_WARM_ON_DEPLOY', problems),
    warmUpCalls: int('FNTS_WARMUP_CALLS', 2000, 0, 100_000),
    stemCells: int('FNTS_STEM_CELLS', 1, 0, 64),
    maxContainersPerFn: int('FNTS_MAX_CONTAINERS_PER_FN', 10, 1, 10_000),
    maxQueuePerFn: int('FNTS_MAX_QUEUE_PER_FN', 100, 0, 1_000_000),
    queueTimeoutMs: int('FNTS_QUEUE_TIMEOUT_MS', 10_000, 1, 3_600_000),
    maxTotalMemoryMiB: int('FNTS_MAX_TOTAL_MEMORY_MIB', defaultMemoryBudgetMiB(readMeminfo(), totalmem()), 64, 16 * 1024 * 1024),
    freezeIdleMs: int('FNTS_FREEZE_IDLE_MS', -1, -1, 3_600_000),
    scaleOut: (env.FNTS_SCALE_OUT || 'expected-wait') as ScaleOutPolicy,
    shutdownGraceMs: int('FNTS_SHUTDOWN_GRACE_MS', 10_000, 0, 3_600_000),
    retentionCheckMs: int('FNTS_RETENTION_CHECK_MS', 60_000, 100, 86_400_000),
    streamLeaseTtlMs: int('FNTS_STREAM_LEASE_TTL_MS', 6000, 300, 600_000),
    detachedConcurrency: int('FNTS_DETACHED_CONCURRENCY', 32, 1, 10_000),
    detachedMaxQueued: int('FNTS_DETACHED_MAX_QUEUED', 1000, 0, 1_000_000),
    detachedMaxAttempts: int('FNTS_DETACHED_MAX_ATTEMPTS', 20, 1, 1000),
    detachedRetryBaseMs: int('FNTS_DETACHED_RETRY_BASE_MS', 500, 1, 3_600_000),
    detachedRetryMaxMs: int('FNTS_DETACHED_RETRY_MAX_MS', 30_000, 1, 3_600_000),
    detachedTakeoverMs: int('FNTS_DETACHED_TAKEOVER_MS', 15_000, 600, 3_600_000),
    callHistoryPerFn: int('FNTS_CALL_HISTORY_PER_FN', 1000, 1, 1_000_000),
    callHistoryMaxAgeMs: int('FNTS_CALL_HISTORY_MAX_AGE_MS', 7 * 86_400_000, 1000, 3650 * 86_400_000),
    imagePull: env.FNTS_IMAGE_PULL === 'missing' ? 'missing' : 'never',
    pullTimeoutMs: int('FNTS_HOT_PULL_TIMEOUT_MS', 600_000, 1000, 3_600_000),
    kafka: kafkaSettings(env, problems, int),
    apiKeys: apiKeys(env, problems),
    insecureNoAuth: flag(env, 'FNTS_INSECURE_NO_AUTH', problems),
    tls: tlsFiles(env, problems),
    logMaxLineBytes: int('FNTS_LOG_MAX_LINE_BYTES', 16 * 1024, 80, 1024 * 1024),
    logRingBytes: int('FNTS_LOG_RING_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    logRateBytesPerContainer: int('FNTS_LOG_RATE_BYTES', 64 * 1024, 0, 1024 * 1024 * 1024),
    bodyReadTimeoutMs: int('FNTS_BODY_READ_TIMEOUT_MS', 30_000, 100, 3_600_000),
    streamBodyThresholdBytes: int('FNTS_STREAM_BODY_THRESHOLD_BYTES', 1024 * 1024, 0, 1024 * 1024 * 1024),
    maxStreamingBodies: int('FNTS_MAX_STREAMING_BODIES', 4, 0, 10_000),
    iofsSizeBytes: int('FNTS_IOFS_SIZE_BYTES', 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    testDeadLetterGapMs: int('FNTS_TEST_DLQ_GAP_MS', 0, 0, 600_000),
    ...overrides,
  };
  if (!SCALE_OUT_POLICIES.includes(config.scaleOut)) {
    problems.push(`FNTS_SCALE_OUT=${config.scaleOut} must be one of ${SCALE_OUT_POLICIES.join(', ')}`);
  }
  if (env.FNTS_IMAGE_PULL !== undefined && !['missing', 'never'].includes(env.FNTS_IMAGE_PULL)) {
    problems.push(`FNTS_IMAGE_PULL=${env.FNTS_IMAGE_PULL} must be missing or never`);
  }
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    problems.push(`FNTS_LOG_LEVEL=${config.logLevel} must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  if (!LOG_FORMATS.includes(config.logFormat)) {
    problems.push(`FNTS_LOG_FORMAT=${config.logFormat} must be one of ${LOG_FORMATS.join(', ')}`);
  }
  if (config.serverId !== undefined && !SERVER_ID_PATTERN.test(config.serverId)) {
    problems.push(`FNTS_SERVER_ID=${config.serverId} must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  if (config.detachedRetryBaseMs > config.detachedRetryMaxMs) {
    problems.push('FNTS_DETACHED_RETRY_BASE_MS must not be larger than FNTS_DETACHED_RETRY_MAX_MS');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** FNTS_DB names a PostgreSQL database rather than an SQLite file. */
export function isPostgresUrl(db: string | undefined): db is string {
  return db !== undefined && /^postgres(ql)?:\/\//i.test(db);
}

/** A database URL as it may be printed or logged: the password replaced by `***`. */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/** Hosts that only this machine can reach; any other bind address needs keys (or FNTS_INSECURE_NO_AUTH). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Listening beyond loopback without keys, unless the operator said so: the API runs any image on this host's Docker. */
export class UnsafeBindError extends Error {
  constructor(host: string) {
    super(`refusing to listen on ${host} without API keys: anyone who reaches the port could run containers on this host; ` +
      'set FNTS_API_KEYS_FILE (--api-keys-file) or FNTS_API_KEYS, or pass --insecure-no-auth (FNTS_INSECURE_NO_AUTH=true) to do it anyway');
    this.name = 'UnsafeBindError';
  }
}

/** Throws UnsafeBindError when the config would serve the API to the network with no keys and no explicit opt-out. */
export function checkBindSafety(config: Pick<ServerConfig, 'host' | 'apiKeys' | 'insecureNoAuth'>): void {
  if (!isLoopbackHost(config.host) && config.apiKeys.length === 0 && !config.insecureNoAuth) throw new UnsafeBindError(config.host);
}

function flag(env: Env, name: string, problems: string[]): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  problems.push(`${name}=${raw} must be true or false`);
  return false;
}

function apiKeys(env: Env, problems: string[]): ApiKeyEntry[] {
  const keys: ApiKeyEntry[] = [];
  const file = env.FNTS_API_KEYS_FILE || undefined;
  if (file !== undefined) {
    try {
      const before = problems.length;
      const entries = parseKeysFile(readFileSync(file, 'utf8'), problems, file);
      // An empty file would silently mean "no keys", which on a public address is the opposite of what was meant.
      if (entries.length === 0 && problems.length === before) problems.push(`FNTS_API_KEYS_FILE=${file} holds no keys`);
      keys.push(...entries);
    } catch (err) {
      problems.push(`FNTS_API_KEYS_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  if (env.FNTS_API_KEYS) keys.push(...parseKeysEnv(env.FNTS_API_KEYS, problems));
  return keys;
}

function tlsFiles(env: Env, problems: string[]): ServerConfig['tls'] {
  const certPath = env.FNTS_TLS_CERT || undefined;
  const keyPath = env.FNTS_TLS_KEY || undefined;
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    problems.push('FNTS_TLS_CERT and FNTS_TLS_KEY (--tls-cert, --tls-key) go together');
    return undefined;
  }
  const read = (name: string, path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      problems.push(`${name}=${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      return '';
    }
  };
  return { cert: read('FNTS_TLS_CERT', certPath), key: read('FNTS_TLS_KEY', keyPath) };
}

type IntReader = (name: string, fallback: number, min: number, max: number) => number;

/** Reads an integer env var within bounds; a bad one adds a problem and gives the fallback. */
function intReader(env: Env, problems: string[]): IntReader {
  return (name, fallback, min, max) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  };
}

/**
 * Only the FNTS_KAFKA_* settings, as loadConfig reads them (for clients other than the server, e.g. `fnts stream put
 * kafka://…`); throws ConfigError with every problem.
 */
export function loadKafkaSettings(env: Env = process.env): KafkaSettings {
  const problems: string[] = [];
  const settings = kafkaSettings(env, problems, intReader(env, problems));
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

const SECURITY_PROTOCOLS: readonly KafkaSecurityProtocol[] = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'];
const SASL_MECHANISMS: readonly KafkaSaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** The FNTS_KAFKA_* settings, checked together: SASL needs its mechanism and credentials, TLS files must be readable. */
function kafkaSettings(env: Env, problems: string[], int: IntReader): KafkaSettings {
  const protocolRaw = (env.FNTS_KAFKA_SECURITY_PROTOCOL || 'plaintext').toLowerCase();
  let securityProtocol: KafkaSecurityProtocol = 'plaintext';
  if ((SECURITY_PROTOCOLS as readonly string[]).includes(protocolRaw)) securityProtocol = protocolRaw as KafkaSecurityProtocol;
  else problems.push(`FNTS_KAFKA_SECURITY_PROTOCOL=${protocolRaw} must be one of ${SECURITY_PROTOCOLS.join(', ')}`);
  const usesSasl = securityProtocol.startsWith('sasl_');
  const usesTls = securityProtocol === 'ssl' || securityProtocol === 'sasl_ssl';

  let sasl: KafkaSettings['sasl'];
  const mechanismRaw = env.FNTS_KAFKA_SASL_MECHANISM?.toUpperCase();
  const username = env.FNTS_KAFKA_SASL_USERNAME;
  const password = env.FNTS_KAFKA_SASL_PASSWORD;
  if (usesSasl) {
    const mechanism = mechanismRaw || 'PLAIN';
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      problems.push(`FNTS_KAFKA_SASL_MECHANISM=${mechanism} must be one of ${SASL_MECHANISMS.join(', ')}`);
    }
    if (!username) problems.push(`FNTS_KAFKA_SASL_USERNAME is required with FNTS_KAFKA_SECURITY_PROTOCOL=${securityProtocol}`);
    if (password === undefined) problems.push(`FNTS_KAFKA_SASL_PASSWORD is required with FNTS_KAFKA_SECURITY_PROTOCOL=${securityProtocol}`);
    sasl = { mechanism: mechanism as KafkaSaslMechanism, username: username ?? '', password: password ?? '' };
  } else if (mechanismRaw || username || password !== undefined) {
    problems.push('FNTS_KAFKA_SASL_* settings need FNTS_KAFKA_SECURITY_PROTOCOL=sasl_plaintext or sasl_ssl');
  }

  const file = (name: string): string | undefined => {
    const path = env[name] || undefined;
    if (path === undefined) return undefined;
    if (!usesTls) problems.push(`${name} needs FNTS_KAFKA_SECURITY_PROTOCOL=ssl or sasl_ssl`);
    try {
      accessSync(path, constants.R_OK);
    } catch {
      problems.push(`${name}=${path} is not a readable file`);
    }
    return path;
  };
  const sslCaLocation = file('FNTS_KAFKA_SSL_CA_LOCATION');
  const sslCertificateLocation = file('FNTS_KAFKA_SSL_CERTIFICATE_LOCATION');
  const sslKeyLocation = file('FNTS_KAFKA_SSL_KEY_LOCATION');
  if ((sslCertificateLocation === undefined) !== (sslKeyLocation === undefined)) {
    problems.push('FNTS_KAFKA_SSL_CERTIFICATE_LOCATION and FNTS_KAFKA_SSL_KEY_LOCATION go together (mutual TLS)');
  }
  const sslKeyPassword = env.FNTS_KAFKA_SSL_KEY_PASSWORD || undefined;

  const staticRaw = (env.FNTS_KAFKA_STATIC_MEMBERSHIP || 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(staticRaw)) problems.push(`FNTS_KAFKA_STATIC_MEMBERSHIP=${staticRaw} must be true or false`);
  const clientId = env.FNTS_KAFKA_CLIENT_ID || 'fnts';
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(clientId)) problems.push(`FNTS_KAFKA_CLIENT_ID=${clientId} may hold letters, digits, ".", "_" and "-"`);
  return {
    securityProtocol,
    sasl,
    sslCaLocation,
    sslCertificateLocation,
    sslKeyLocation,
    sslKeyPassword,
    clientId,
    sessionTimeoutMs: int('FNTS_KAFKA_SESSION_TIMEOUT_MS', 45_000, 1000, 3_600_000),
    staticMembership: staticRaw === 'true' || staticRaw === '1',
  };
}
