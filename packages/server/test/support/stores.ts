import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createDatabase } from '../../../../test/support/postgres.js';
import type { Datastore } from '../../src/store/datastore.js';
import { PostgresDatastore } from '../../src/store/postgres.js';
import { SqliteDatastore } from '../../src/store/sqlite.js';
import type { StreamLog } from '../../src/streams/embedded/log.js';
import { PostgresStreamLog } from '../../src/streams/embedded/postgres-log.js';
import { SqliteStreamLog } from '../../src/streams/embedded/sqlite-log.js';

/** One place a store lives (an SQLite file, a PostgreSQL database) that can be opened, closed and opened again. */
export interface StoreLocation {
  /** What `FNTS_DB` names it by: the file's path or the database's URL. */
  readonly db: string;
  open(): Promise<Datastore>;
  /** A detached call's stored input and owner, read straight from the table (what the API never shows). */
  callInput(store: Datastore, id: string): Promise<{ headers: string | null; body: Buffer | null; owner: string | null } | undefined>;
  /** Removes the file or leaves the database to the cluster's removal. */
  dispose(): Promise<void>;
}

/** A kind of store the conformance suite runs on. */
export interface StoreKind {
  readonly name: string;
  /** A new, empty location. */
  fresh(): Promise<StoreLocation>;
}

const sqlite: StoreKind = {
  name: 'SQLite',
  async fresh() {
    const dir = await mkdtemp(join(tmpdir(), 'fnts-store-'));
    const db = join(dir, 'nested', 'fnts.db');
    return {
      db,
      open: async () => new SqliteDatastore(db),
      callInput: async (store, id) => (store as SqliteDatastore).db
        .prepare('SELECT headers, body, owner FROM calls WHERE id = ?').get(id) as Awaited<ReturnType<StoreLocation['callInput']>>,
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

const postgres: StoreKind = {
  name: 'PostgreSQL',
  async fresh() {
    const db = await createDatabase(inject('postgresUrl'));
    return {
      db,
      open: () => PostgresDatastore.open(db),
      callInput: async (store, id) => (await (store as PostgresDatastore).pool.query(
        'SELECT headers, body, owner FROM calls WHERE id = $1', [id])).rows[0],
      // The cluster, and every database on it, is removed when the run ends.
      dispose: async () => undefined,
    };
  },
};

/** Every store the Datastore interface has: each conformance test runs on all of them. */
export const STORE_KINDS: readonly StoreKind[] = [sqlite, postgres];

/**
 * The embedded log on a store, whatever the server's switch says (streams/embedded/open.ts): the conformance suite
 * runs the log on every store.
 */
export async function streamLogOn(store: Datastore, opts: { testDeadLetterGapMs?: number } = {}): Promise<StreamLog> {
  if (store instanceof SqliteDatastore) return new SqliteStreamLog(store.db, opts);
  return PostgresStreamLog.open(store as PostgresDatastore, opts);
}
