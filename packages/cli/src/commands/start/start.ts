import type { RunningServer } from '@fnts/server';
import { cliErrors } from '../../errors.js';

export interface StartOptions {
  port?: string;
  host?: string;
  db?: string;
}

/**
 * `fnts start`: runs the server in the foreground until SIGINT/SIGTERM. The server package (fastify, SQLite, the
 * agent) is loaded here only, so no other command pays for it.
 */
export async function startCommand(opts: StartOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const { ConfigError, loadConfig, startServer } = await import('@fnts/server');
  const configEnv = { ...env };
  if (opts.port !== undefined) configEnv.FNTS_PORT = opts.port;
  if (opts.host !== undefined) configEnv.FNTS_HOST = opts.host;
  if (opts.db !== undefined) configEnv.FNTS_DB = opts.db;
  try {
    return await startServer(loadConfig(configEnv));
  } catch (err) {
    if (err instanceof ConfigError) throw cliErrors.serverConfig(err.message);
    throw err;
  }
}
