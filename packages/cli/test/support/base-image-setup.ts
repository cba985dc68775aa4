import { ensureBaseImage } from '../../src/build/base-image.js';
import { docker } from './docker.js';

/**
 * Vitest global setup for every project whose tests build function images (the CLI's, the server's, e2e):
 * fails fast without Docker, then builds the runtime base image once, before parallel test files would each
 * race to build it. Nothing else runs it: the FDK's tests need no Docker.
 */
export default async function setup(): Promise<void> {
  await docker.ping().catch((err: unknown) => {
    throw new Error(`the tests need a Docker engine: ${(err as Error).message}. Run scripts/setup.sh first.`);
  });
  await ensureBaseImage(docker);
}
