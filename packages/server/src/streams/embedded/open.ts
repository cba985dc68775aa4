import type { PostgresDatastore } from '../../store/postgres.js';
import { SqliteDatastore } from '../../store/sqlite.js';
import type { StreamLog } from './log.js';
import type { PostgresLeaseCheck } from './postgres-log.js';
import { SqliteStreamLog } from './sqlite-log.js';

export interface StreamLogOptions {
  /** Test hook: see ServerConfig.testDeadLetterGapMs. */
  testDeadLetterGapMs?: number;
  /** PostgreSQL: how a commit's partition lease is checked in its transaction (postgres-log.ts). */
  leaseCheck?: PostgresLeaseCheck;
}

/**
 * The embedded log in the server's store. On PostgreSQL it is shared by every server (postgres-log.ts: dense offsets
 * whoever appends, wake-ups by LISTEN/NOTIFY, dead letters and commit in one transaction), and each partition is leased
 * to one server at a time, every commit checking the lease (streams/leases/).
 */
export async function openStreamLog(store: SqliteDatastore | PostgresDatastore, opts: StreamLogOptions = {}): Promise<StreamLog> {
  // One SQLite file serves one server, which owns every partition: it has no lease to check.
  if (store instanceof SqliteDatastore) return new SqliteStreamLog(store.db, { testDeadLetterGapMs: opts.testDeadLetterGapMs });
  // Loaded only here, as the store is: a server on SQLite never loads the PostgreSQL client.
  const { PostgresStreamLog } = await import('./postgres-log.js');
  return PostgresStreamLog.open(store, opts);
}
