import { loadConfig, startServer, type RunningServer } from '@fnts/server';

export interface StartOptions {
  port?: string;
  host?: string;
  db?: string;
}

/** `fnts start`: runs the server in the foreground until SIGINT/SIGTERM. */
export async function startCommand(opts: StartOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const configEnv = { ...env };
  if (opts.port !== undefined) configEnv.FNTS_PORT = opts.port;
  if (opts.host !== undefined) configEnv.FNTS_HOST = opts.host;
  if (opts.db !== undefined) configEnv.FNTS_DB = opts.db;
  return startServer(loadConfig(configEnv));
}
