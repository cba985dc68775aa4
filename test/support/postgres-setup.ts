import type { TestProject } from 'vitest/node';
import { startPostgresCluster } from './postgres.js';

/**
 * Vitest global setup: one throwaway PostgreSQL cluster for the run (tests read its URL with `inject('postgresUrl')`),
 * stopped and removed when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startPostgresCluster();
  project.provide('postgresUrl', cluster.url);
  project.provide('postgresSocketDir', cluster.socketDir);
  return () => cluster.stop();
}
