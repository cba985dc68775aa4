import { ensureBaseImage } from '../../src/build/base-image.js';
import { docker, TEST_LABEL } from './docker.js';

/**
 * Vitest global setup for every project whose tests build function images (the CLI's, the server's, e2e):
 * fails fast without Docker, then builds the runtime base image once, before parallel test files would each
 * race to build it. Nothing else runs it: the FDK's tests need no Docker.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await docker.ping().catch((err: unknown) => {
    throw new Error(`the tests need a Docker engine: ${(err as Error).message}. Run scripts/setup.sh first.`);
  });
  await ensureBaseImage(docker);
  // Test files remove their images with noprune (a parallel build may stand on a shared cached layer), so an image a
  // test built FROM may still have those layers as children. Once the run is over nothing builds: the untagged layers
  // fnts left behind go, then any test image they held back, then what that freed.
  return async () => {
    // Containers first: a server killed with SIGKILL mid-start can leave one its engine finished creating after the
    // test's own cleanup ran ("Created", never started), and it would also hold its image.
    for (const c of await docker.listContainers({ all: true, filters: { label: [TEST_LABEL] } }).catch(() => [])) {
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    const prune = () => docker.pruneImages({ filters: JSON.stringify({ dangling: ['true'], label: ['fnts.managed=true'] }) }).catch(() => undefined);
    await prune();
    for (const img of await docker.listImages({ filters: { label: [TEST_LABEL] } }).catch(() => [])) {
      await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
    }
    await prune();
  };
}
