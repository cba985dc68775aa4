import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** What the end-to-end tests run as processes: `fnts` (and `fnts start`, which loads the server's build). */
const BUILT = ['../../packages/cli/dist/main.js', '../../packages/server/dist/index.js', '../../packages/fdk/dist/index.js'];

/**
 * Vitest global setup for the end-to-end tests, which run the built CLI and server: without a build they would
 * each fail with "module not found"; this says what to do once.
 */
export default async function setup(): Promise<void> {
  for (const entry of BUILT.map((p) => fileURLToPath(new URL(p, import.meta.url)))) {
    await access(entry).catch(() => {
      throw new Error(`the end-to-end tests run ${entry}, which is not built: run \`npx tsc -b\` first (npm test does).`);
    });
  }
}
