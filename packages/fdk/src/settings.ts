// Everything the FDK takes from the environment and the options, validated once at
// startup (every problem collected), then frozen. No other module reads env.
import { basename, dirname, join } from 'node:path';
import { INPUT_MODES, type InputMode } from './codec.js';
import { FdkConfigError } from './errors.js';
import { ENV, HTTP_STREAM_FORMAT, MAX_SOCKET_PATH_BYTES, PHONY_SOCKET_SUFFIX, UNIX_LISTENER_PREFIX } from '@fnts/api/contract';

export type Env = Readonly<Record<string, string | undefined>>;

/** Options of `handle` and `serve`. */
export interface HandleOptions {
  /** How the request body reaches the function; default `json`. */
  inputMode?: InputMode;
  /**
   * Answer 504 as soon as the call's `Fn-Deadline` passes, without waiting for the
   * function; default true. Turn it off to let a late function still answer (the
   * platform's own timeout then decides).
   */
  deadlineGuard?: boolean;
  /** Where to listen, `unix:<path>`; defaults to env `FN_LISTENER`. */
  listener?: string;
  /** The environment to read; defaults to `process.env`. Meant for tests. */
  env?: NodeJS.ProcessEnv;
}

/** Paths of the socket dance (CONTRACT §1.3). */
export interface SocketPaths {
  /** The name the agent waits for: a relative symlink to `phonyName`. */
  readonly listenerPath: string;
  /** Where the server really listens, in the same directory. */
  readonly phonyPath: string;
  /** Basename of `phonyPath`, the symlink's target. */
  readonly phonyName: string;
}

/** Facts about the function that do not change between calls. */
export interface FunctionInfo {
  readonly fnId: string;
  readonly appId: string;
  readonly fnName: string | undefined;
  readonly appName: string | undefined;
  readonly memory: number;
  readonly config: Readonly<Record<string, string>>;
}

export interface FdkSettings {
  readonly socket: SocketPaths;
  readonly inputMode: InputMode;
  readonly deadlineGuard: boolean;
  readonly function: FunctionInfo;
  /** Log framing (CONTRACT §1.6), when both variables are set. */
  readonly logFrame: { readonly name: string; readonly header: string } | null;
}

/** Validates env and options; throws FdkConfigError listing every problem. */
export function resolveSettings(env: Env, options: HandleOptions = {}): FdkSettings {
  const problems: string[] = [];

  const format = env[ENV.format];
  if (format !== undefined && format !== '' && format.toLowerCase() !== HTTP_STREAM_FORMAT) {
    problems.push(`${ENV.format} is '${format}', only '${HTTP_STREAM_FORMAT}' is supported`);
  }

  const listener = options.listener ?? env[ENV.listener];
  const socket = socketPaths(listener, problems);

  const inputMode = options.inputMode ?? 'json';
  if (!INPUT_MODES.includes(inputMode)) {
    problems.push(`inputMode is '${String(inputMode)}', expected one of ${INPUT_MODES.join(', ')}`);
  }

  const deadlineGuard = options.deadlineGuard ?? true;
  if (typeof deadlineGuard !== 'boolean') {
    problems.push(`deadlineGuard is '${String(deadlineGuard)}', expected true or false`);
  }

  if (problems.length > 0 || socket === null) throw new FdkConfigError(problems);

  const logFrameName = env[ENV.logFrameName] ?? '';
  const logFrameHeader = env[ENV.logFrameHeader] ?? '';
  return Object.freeze({
    socket,
    inputMode,
    deadlineGuard,
    function: functionInfo(env),
    logFrame: logFrameName !== '' && logFrameHeader !== '' ? { name: logFrameName, header: logFrameHeader } : null,
  });
}

function socketPaths(listener: string | undefined, problems: string[]): SocketPaths | null {
  if (listener === undefined || listener === '') {
    problems.push(`${ENV.listener} is not set`);
    return null;
  }
  if (!listener.startsWith(UNIX_LISTENER_PREFIX)) {
    problems.push(`${ENV.listener} is '${listener}', it must start with '${UNIX_LISTENER_PREFIX}'`);
    return null;
  }
  const listenerPath = listener.slice(UNIX_LISTENER_PREFIX.length);
  if (listenerPath === '' || listenerPath.endsWith('/')) {
    problems.push(`${ENV.listener} is '${listener}', it must name a socket file`);
    return null;
  }
  const phonyName = basename(listenerPath) + PHONY_SOCKET_SUFFIX;
  const phonyPath = join(dirname(listenerPath), phonyName);
  for (const path of [listenerPath, phonyPath]) {
    const bytes = Buffer.byteLength(path);
    if (bytes > MAX_SOCKET_PATH_BYTES) {
      problems.push(`socket path '${path}' is ${bytes} bytes, the limit is ${MAX_SOCKET_PATH_BYTES}`);
      return null;
    }
  }
  return { listenerPath, phonyPath, phonyName };
}

function functionInfo(env: Env): FunctionInfo {
  const memory = Number.parseInt(env[ENV.memory] ?? '', 10);
  return Object.freeze({
    fnId: env[ENV.fnId] ?? '',
    appId: env[ENV.appId] ?? '',
    fnName: env[ENV.fnName],
    appName: env[ENV.appName],
    memory: Number.isNaN(memory) ? 0 : memory,
    config: functionConfig(env),
  });
}

// Variables of the OS, the shell, Node and npm: present in a container's env but
// never part of a function's config.
const NON_CONFIG_NAMES: ReadonlySet<string> = new Set([
  '_', 'HOME', 'HOSTNAME', 'LANG', 'LANGUAGE', 'LOGNAME', 'MAIL', 'OLDPWD', 'PATH', 'PWD',
  'SHELL', 'SHLVL', 'TERM', 'USER', 'YARN_VERSION', 'INIT_CWD', 'COLORTERM',
]);
const NON_CONFIG_PREFIXES: readonly string[] = ['FN_', 'FNTS_', 'NODE_', 'LC_', 'npm_', 'NPM_'];

/**
 * The function's config. Under fnts, `FNTS_CONFIG_KEYS` names the keys exactly.
 * Under the Fn server, which does not say, it is the env minus the platform's and
 * the OS's own variables — never the whole env (fdk-node's mistake).
 */
export function functionConfig(env: Env): Readonly<Record<string, string>> {
  // Entries, not assignments, so a key named `__proto__` stays an ordinary key.
  const entries: Array<[string, string]> = [];
  const keyList = env[ENV.configKeys];
  if (keyList !== undefined) {
    for (const key of keyList.split(',').map((k) => k.trim())) {
      const value = key === '' ? undefined : env[key];
      if (value !== undefined) entries.push([key, value]);
    }
  } else {
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined || NON_CONFIG_NAMES.has(key)) continue;
      if (NON_CONFIG_PREFIXES.some((prefix) => key.startsWith(prefix))) continue;
      entries.push([key, value]);
    }
  }
  const config: Record<string, string> = Object.fromEntries(entries);
  return Object.freeze(config);
}
