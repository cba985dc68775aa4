import type pg from 'pg';

/**
 * Schema migrations of the PostgreSQL store, applied in order; `schema_migrations` records each one that ran. The
 * shape is SQLite's after all its migrations (sqlite.ts). Ids and names are `COLLATE "C"`: cursors compare byte-wise,
 * as SQLite does, whatever the database's locale.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE TABLE apps (
     id TEXT COLLATE "C" PRIMARY KEY,
     name TEXT COLLATE "C" NOT NULL CONSTRAINT apps_name_key UNIQUE,
     config TEXT NOT NULL DEFAULT '{}',
     annotations TEXT NOT NULL DEFAULT '{}',
     syslog_url TEXT,
     shape TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE fns (
     id TEXT COLLATE "C" PRIMARY KEY,
     app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
     name TEXT COLLATE "C" NOT NULL,
     image TEXT NOT NULL,
     memory INTEGER NOT NULL,
     timeout INTEGER NOT NULL,
     idle_timeout INTEGER NOT NULL,
     max_containers INTEGER,
     concurrency INTEGER,
     config TEXT NOT NULL DEFAULT '{}',
     annotations TEXT NOT NULL DEFAULT '{}',
     shape TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     CONSTRAINT fns_name_key UNIQUE (app_id, name)
   );
   CREATE TABLE triggers (
     id TEXT COLLATE "C" PRIMARY KEY,
     app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
     fn_id TEXT COLLATE "C" NOT NULL REFERENCES fns(id) ON DELETE CASCADE,
     name TEXT COLLATE "C" NOT NULL,
     type TEXT COLLATE "C" NOT NULL,
     source TEXT COLLATE "C" NOT NULL,
     annotations TEXT NOT NULL DEFAULT '{}',
     options TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     CONSTRAINT triggers_name_key UNIQUE (app_id, fn_id, name)
   );
   -- An HTTP path belongs to one function; a stream may feed many (one trigger per function).
   CREATE UNIQUE INDEX triggers_http_source ON triggers (app_id, type, source) WHERE type = 'http';
   CREATE UNIQUE INDEX triggers_stream_source ON triggers (fn_id, source) WHERE type = 'stream';
   CREATE INDEX triggers_by_fn ON triggers (fn_id);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE calls (
     id TEXT COLLATE "C" PRIMARY KEY,
     app_id TEXT COLLATE "C" NOT NULL,
     fn_id TEXT COLLATE "C" NOT NULL,
     type TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at TEXT NOT NULL,
     started_at TEXT,
     completed_at TEXT,
     duration_ms BIGINT,
     trigger_id TEXT,
     batch TEXT,
     error TEXT,
     error_code TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     -- A queued detached call runs no earlier than this (epoch ms): retries after throttling back off.
     due_ms BIGINT NOT NULL DEFAULT 0,
     -- The server that claimed a running detached call.
     owner TEXT,
     -- A detached call's input, kept until it has run.
     headers TEXT,
     body BYTEA
   );
   CREATE INDEX calls_by_fn ON calls (fn_id, id);
   CREATE INDEX calls_queued ON calls (id) WHERE status = 'queued';
   CREATE INDEX calls_running ON calls (owner) WHERE status = 'running';`,
  // 2: claims become leases (as SQLite's CALLS_LEASE_MIGRATION): renewed by the owner, fenced by the claim's number.
  `ALTER TABLE calls ADD COLUMN claim_epoch INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE calls ADD COLUMN lease_expires_ms BIGINT;
   CREATE INDEX calls_leases ON calls (lease_expires_ms) WHERE status = 'running';`,
  // 3: the embedded streams (streams/embedded/postgres-log.ts). A partition's row holds its next offset: an append
  // moves it in its own transaction, so appends from several servers queue on the row and offsets stay dense.
  `CREATE TABLE streams (
     id TEXT COLLATE "C" PRIMARY KEY,
     name TEXT COLLATE "C" NOT NULL CONSTRAINT streams_name_key UNIQUE,
     partitions INTEGER NOT NULL,
     retention_ms BIGINT NOT NULL,
     rr INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE stream_partitions (
     stream_id TEXT COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
     partition INTEGER NOT NULL,
     start_offset BIGINT NOT NULL DEFAULT 0,
     next_offset BIGINT NOT NULL DEFAULT 0,
     PRIMARY KEY (stream_id, partition)
   );
   CREATE TABLE stream_messages (
     stream_id TEXT COLLATE "C" NOT NULL,
     partition INTEGER NOT NULL,
     "offset" BIGINT NOT NULL,
     ts BIGINT NOT NULL,
     key BYTEA,
     value BYTEA NOT NULL,
     headers TEXT,
     PRIMARY KEY (stream_id, partition, "offset")
   );
   CREATE INDEX stream_messages_ts ON stream_messages (stream_id, partition, ts);
   CREATE TABLE consumer_offsets (
     group_id TEXT COLLATE "C" NOT NULL,
     stream_id TEXT COLLATE "C" NOT NULL,
     partition INTEGER NOT NULL,
     "offset" BIGINT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (group_id, stream_id, partition)
   );`,
  // 4: partition leases of embedded stream triggers: which server consumes which partition (streams/leases/).
  `CREATE TABLE stream_servers (
     server_id TEXT COLLATE "C" PRIMARY KEY,
     heartbeat_at TIMESTAMPTZ NOT NULL
   );
   CREATE TABLE stream_leases (
     trigger_id TEXT COLLATE "C" NOT NULL,
     partition INTEGER NOT NULL,
     owner TEXT COLLATE "C",
     epoch BIGINT NOT NULL DEFAULT 0,
     expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
     PRIMARY KEY (trigger_id, partition)
   );
   CREATE INDEX stream_leases_by_owner ON stream_leases (owner);`,
];

/** The advisory lock every fnts server takes to migrate: "fnts" in ASCII. */
const MIGRATION_LOCK = 0x666e7473;

/** A database migrated by a newer fnts than this one: starting would write rows the newer schema does not expect. */
export class SchemaTooNew extends Error {
  constructor(readonly found: number, readonly known: number) {
    super(`the database's schema is at version ${found}, newer than this server knows (${known})`);
    this.name = 'SchemaTooNew';
  }
}

/**
 * Brings the schema up to date under a session advisory lock, each migration in its own transaction: servers
 * starting together wait for the first, which migrates; the others find nothing left to do. Returns how many
 * migrations this call applied.
 */
export async function migrate(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > POSTGRES_MIGRATIONS.length) throw new SchemaTooNew(current, POSTGRES_MIGRATIONS.length);
      for (let v = current + 1; v <= POSTGRES_MIGRATIONS.length; v++) {
        await client.query('BEGIN');
        try {
          await client.query(POSTGRES_MIGRATIONS[v - 1] as string);
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
      return POSTGRES_MIGRATIONS.length - current;
    } finally {
      // A failed unlock (the connection broke) must not hide the error that brought us here.
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch((err: Error) => {
        broken = err;
      });
    }
  } catch (err) {
    broken ??= err as Error;
    throw err;
  } finally {
    // A connection that failed mid-migration may still hold the lock or a transaction: close it, never reuse it.
    client.release(broken);
  }
}
