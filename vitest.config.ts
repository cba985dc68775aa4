import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const serverSource = fileURLToPath(new URL('./packages/server/src/index.ts', import.meta.url));
const contractSource = fileURLToPath(new URL('./packages/api/src/contract.ts', import.meta.url));

/**
 * One project per package plus the end-to-end tests, each with only the setup it needs: the FDK's tests use no
 * Docker and no other package's build; the server's and the CLI's build function images, so they first make sure
 * the runtime base image exists (one build, before any worker races to make it); e2e runs the built CLI and server.
 * `npm test` runs every project; `npx vitest run --project fdk` runs one.
 */
export default defineConfig({
  test: {
    // Tests drive real containers: a cold start plus an image build can take seconds on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: more parallel files only queue on Docker.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'api', include: ['packages/api/test/**/*.test.ts'] },
      },
      {
        extends: true,
        // The FDK's one dependency, the contract's names, from source: its tests need no build of another package.
        resolve: { alias: [{ find: /^@fnts\/api\/contract$/, replacement: contractSource }] },
        test: { name: 'fdk', include: ['packages/fdk/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'server',
          include: ['packages/server/test/**/*.test.ts'],
          // The store's tests run on SQLite and on a real PostgreSQL: one throwaway cluster per run.
          globalSetup: ['packages/cli/test/support/base-image-setup.ts', 'test/support/postgres-setup.ts'],
        },
      },
      {
        extends: true,
        // The CLI's tests run a real server in-process: from its source, so they need no build of it.
        resolve: { alias: [{ find: /^@fnts\/server$/, replacement: serverSource }] },
        test: {
          name: 'cli',
          include: ['packages/cli/test/**/*.test.ts'],
          globalSetup: ['packages/cli/test/support/base-image-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          // Several servers share one PostgreSQL database (test/several-servers.test.ts).
          globalSetup: ['packages/cli/test/support/base-image-setup.ts', 'test/support/built-packages.ts', 'test/support/postgres-setup.ts'],
        },
      },
    ],
  },
});
