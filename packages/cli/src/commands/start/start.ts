import type { RunningServer } from '@fnts/server';
import { CliError, cliErrors } from '../../errors.js';

export interface StartOptions {
  port?: string;
  host?: string;
  db?: string;
  stateDir?: string;
  serverId?: string;
  apiKeysFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureNoAuth?: boolean;
  logFile?: string;
  logLevel?: string;
  logFormat?: string;
}

/** Each flag of `fnts start` that sets a server variable, and the variable. */
const FLAG_VARIABLES = [
  ['port', '--port', 'FNTS_PORT'],
  ['host', '--host', 'FNTS_HOST'],
  ['db', '--db', 'FNTS_DB'],
  ['stateDir', '--state-dir', 'FNTS_STATE_DIR'],
  ['serverId', '--server-id', 'FNTS_SERVER_ID'],
  ['apiKeysFile', '--api-keys-file', 'FNTS_API_KEYS_FILE'],
  ['tlsCert', '--tls-cert', 'FNTS_TLS_CERT'],
  ['tlsKey', '--tls-key', 'FNTS_TLS_KEY'],
  ['logFile', '--log-file', 'FNTS_LOG_FILE'],
  ['logLevel', '--log-level', 'FNTS_LOG_LEVEL'],
  ['logFormat', '--log-format', 'FNTS_LOG_FORMAT'],
] as const satisfies readonly (readonly [keyof StartOptions, string, string])[];

/** A config problem as the operator wrote it: `FNTS_PORT="abc" must…` reads `--port "abc" must…` when the flag set it. */
export function problemInFlagTerms(problem: string, opts: StartOptions): string {
  for (const [key, flag, variable] of FLAG_VARIABLES) {
    if (opts[key] !== undefined && problem.startsWith(`${variable}=`)) return `${flag} ${problem.slice(variable.length + 1)}`;
  }
  return problem;
}

/**
 * `fnts start`: runs the server in the foreground until SIGINT/SIGTERM; flags override the FNTS_* variables. The
 * server package (fastify, SQLite, the agent) is loaded here only, so no other command pays for it. The operator's
 * mistakes (bad values, a busy port, a database or log file that cannot be opened, Docker not running) become one
 * line and a hint, exit 1.
 */
export async function startCommand(
  opts: StartOptions,
  env: NodeJS.ProcessEnv = process.env,
  stdoutIsTerminal = Boolean(process.stdout.isTTY),
): Promise<RunningServer> {
  const { ConfigError, StartupError, UnsafeBindError, loadConfig, startServer } = await import('@fnts/server');
  const configEnv = { ...env };
  for (const [key, , variable] of FLAG_VARIABLES) {
    const value = opts[key];
    if (value !== undefined) configEnv[variable] = value;
  }
  if (opts.insecureNoAuth) configEnv.FNTS_INSECURE_NO_AUTH = 'true';
  try {
    return await startServer(loadConfig(configEnv), { stdoutIsTerminal });
  } catch (err) {
    if (err instanceof ConfigError) throw cliErrors.serverConfig(err.problems.map((p) => problemInFlagTerms(p, opts)));
    if (err instanceof StartupError) throw new CliError(err.code, err.message, err.hint);
    if (err instanceof UnsafeBindError) throw new CliError('FNTS_ERR_UNSAFE_BIND', err.message);
    throw err;
  }
}
