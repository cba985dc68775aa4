/**
 * `@fnts/server/postgres`: the PostgreSQL store and its embedded log, for tools that build a server on PostgreSQL
 * themselves (bench/stream.ts). Its own entry point, so importing `@fnts/server` never loads the PostgreSQL client.
 */
export { PostgresDatastore, type PostgresOptions } from './store/postgres.js';
export { PostgresStreamLog } from './streams/embedded/postgres-log.js';
