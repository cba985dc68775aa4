import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests drive real containers: a cold start plus an image build can take seconds on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    globalSetup: ['test/support/global-setup.ts'],
    // Two cores: more parallel files only queue on Docker.
    maxWorkers: 2,
  },
});
