import type { RunningServer } from '@fnts/server';
import { CliError, cliErrors } from '../../errors.js';

export interface StartOptions {
  port?: string;
  host?: string;
  db?: string;
  apiKeysFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureNoAuth?: boolean;
}

/**
 * `fnts start`: runs the server in the foreground until SIGINT/SIGTERM; flags override the FNTS_* variables. The
 * server package (fastify, SQLite, the agent) is loaded here only, so no other command pays for it.
 */
export async function startCommand(opts: StartOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const { ConfigError, UnsafeBindError, loadConfig, startServer } = await import('@fnts/server');
  const configEnv = { ...env };
  if (opts.port !== undefined) configEnv.FNTS_PORT = opts.port;
  if (opts.host !== undefined) configEnv.FNTS_HOST = opts.host;
  if (opts.db !== undefined) configEnv.FNTS_DB = opts.db;
  if (opts.apiKeysFile !== undefined) configEnv.FNTS_API_KEYS_FILE = opts.apiKeysFile;
  if (opts.tlsCert !== undefined) configEnv.FNTS_TLS_CERT = opts.tlsCert;
  if (opts.tlsKey !== undefined) configEnv.FNTS_TLS_KEY = opts.tlsKey;
  if (opts.insecureNoAuth) configEnv.FNTS_INSECURE_NO_AUTH = 'true';
  try {
    return await startServer(loadConfig(configEnv));
  } catch (err) {
    // One line, exit 1: the message already says what to do.
    if (err instanceof ConfigError) throw cliErrors.serverConfig(err.message);
    if (err instanceof UnsafeBindError) throw new CliError('FNTS_ERR_UNSAFE_BIND', err.message);
    throw err;
  }
}
