import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { ServerConfig } from './config.js';

export interface RunningServer {
  app: FastifyInstance;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Builds and listens, prints one `fnts server listening on <url>` line on stdout (tools wait for it), and
 * stops cleanly on SIGINT/SIGTERM: no new calls, every container removed.
 */
export async function startServer(config: ServerConfig, opts: { handleSignals?: boolean } = {}): Promise<RunningServer> {
  const app = await buildApp({ config });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  process.stdout.write(`fnts server listening on ${url}\n`);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= app.close());
  if (opts.handleSignals ?? true) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        app.log.info({ signal }, 'shutting down');
        void stop().then(() => process.exit(0));
      });
    }
  }
  return { app, url, stop };
}
