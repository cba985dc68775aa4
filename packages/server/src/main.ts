#!/usr/bin/env node
import { ConfigError, loadConfig, UnsafeBindError } from './config.js';
import { startServer } from './server.js';
import { StartupError } from './startup-errors.js';

/** Process entry: config → compose → listen; stops cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fnts-server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  await startServer(config);
}

main().catch((err: unknown) => {
  if (err instanceof StartupError) {
    process.stderr.write(`fnts-server: ${err.message}\nHint: ${err.hint}\n`);
    process.exit(1);
  }
  if (err instanceof UnsafeBindError) {
    process.stderr.write(`fnts-server: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`fnts-server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
