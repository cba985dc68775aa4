import { ensureBaseImage } from '../../packages/cli/dist/build/base-image.js';
import { dockerClient } from '../../packages/cli/dist/build/docker-build.js';
import { loadSettings } from '../../packages/cli/dist/settings.js';

/** Builds the runtime base image once, before any test file needs it, and fails fast without Docker. */
export default async function setup(): Promise<void> {
  const docker = dockerClient(loadSettings().dockerSocketPath);
  await docker.ping().catch((err: unknown) => {
    throw new Error(`the tests need a Docker engine: ${(err as Error).message}. Run scripts/setup.sh first.`);
  });
  await ensureBaseImage(docker);
}
