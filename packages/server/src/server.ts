import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { checkBindSafety, isLoopbackHost, type ServerConfig } from './config.js';
import { createLogger } from './logging.js';
import { checkPortFree, listenFailure } from './startup-errors.js';

export interface RunningServer {
  app: FastifyInstance;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /** Whether stdout is a terminal, for `FNTS_LOG_FORMAT=auto` (default: process.stdout.isTTY). */
  stdoutIsTerminal?: boolean;
}

/**
 * Builds and listens, prints one `fnts server listening on <url>` line on stdout (tools wait for it), and
 * stops cleanly on SIGINT/SIGTERM: no new calls, every container removed. The operator's mistakes (a busy port, a
 * database that cannot be opened, Docker not running) are thrown as StartupErrors, with nothing left behind.
 */
export async function startServer(config: ServerConfig, opts: StartOptions = {}): Promise<RunningServer> {
  // Before anything is built or bound: a refused start leaves no socket, store or container behind.
  checkBindSafety(config);
  await checkPortFree(config.host, config.port);
  const logger = await createLogger(config, opts.stdoutIsTerminal ?? Boolean(process.stdout.isTTY));
  const app = await buildApp({ config, logger });
  if (config.apiKeys.length > 0) {
    const scopes: Record<string, number> = {};
    for (const k of config.apiKeys) scopes[k.scope] = (scopes[k.scope] ?? 0) + 1;
    app.log.info({ scopes, tls: config.tls !== undefined }, 'API keys required');
  }
  if (!isLoopbackHost(config.host)) {
    if (config.apiKeys.length === 0) {
      app.log.warn({ host: config.host }, 'listening beyond loopback WITHOUT API keys (insecure-no-auth): anyone who reaches the port can run containers on this host');
    } else if (!config.tls) {
      app.log.warn({ host: config.host }, 'API keys travel in clear text over plain HTTP; use --tls-cert/--tls-key or a TLS-terminating proxy');
    }
  }
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    // Another process took the port since the check: the store and the started triggers are closed again.
    await app.close().catch(() => undefined);
    throw listenFailure(err, config.host, config.port);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${config.tls ? 'https' : 'http'}://${host}:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= app.close());
  // Before the line below: a tool that signals as soon as it reads the line must find the handlers in place.
  if (opts.handleSignals ?? true) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        app.log.info({ signal }, 'shutting down');
        void stop().then(() => process.exit(0));
      });
    }
  }
  // With --log-file this is the only line the terminal gets, so it says where the rest went.
  process.stdout.write(`fnts server listening on ${url}${config.logFile !== undefined ? ` (log: ${config.logFile})` : ''}\n`);
  return { app, url, stop };
}
