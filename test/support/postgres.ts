import { createDatabase, databaseUrl, postgresBinDir, startPostgresCluster, type PostgresCluster } from '../../bench/postgres.js';

export { createDatabase, databaseUrl, postgresBinDir, startPostgresCluster, type PostgresCluster };

declare module 'vitest' {
  export interface ProvidedContext {
    /** The throwaway cluster's admin URL (postgres-setup.ts provides it); test files make their own database on it. */
    postgresUrl: string;
    /** The directory of its unix socket (libpq's `host=`). */
    postgresSocketDir: string;
  }
}
