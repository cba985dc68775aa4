import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UniqueViolation, type Datastore } from './datastore.js';
import { statementCache } from './statements.js';
import { CALLS_LEASE_MIGRATION, CALLS_MIGRATION, SqliteCallStore } from './sqlite-calls.js';
import type { App, Fn, ListOptions, Page, Trigger } from './models.js';
import { appFromRow, fnFromRow, page, triggerFromRow, type AppRow, type FnRow, type TriggerRow } from './rows.js';

/** Schema migrations, applied in order; PRAGMA user_version records how many ran. */
const MIGRATIONS = [
  `CREATE TABLE apps (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     config TEXT NOT NULL DEFAULT '{}',
     annotations TEXT NOT NULL DEFAULT '{}',
     syslog_url TEXT,
     shape TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE fns (
     id TEXT PRIMARY KEY,
     app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     image TEXT NOT NULL,
     memory INTEGER NOT NULL,
     timeout INTEGER NOT NULL,
     idle_timeout INTEGER NOT NULL,
     config TEXT NOT NULL DEFAULT '{}',
     annotations TEXT NOT NULL DEFAULT '{}',
     shape TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     UNIQUE (app_id, name)
   );
   CREATE TABLE triggers (
     id TEXT PRIMARY KEY,
     app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
     fn_id TEXT NOT NULL REFERENCES fns(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     source TEXT NOT NULL,
     annotations TEXT NOT NULL DEFAULT '{}',
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     UNIQUE (app_id, fn_id, name),
     UNIQUE (app_id, type, source)
   );`,
  `ALTER TABLE fns ADD COLUMN max_containers INTEGER;
   ALTER TABLE fns ADD COLUMN concurrency INTEGER;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  `CREATE TABLE triggers_v3 (
     id TEXT PRIMARY KEY,
     app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
     fn_id TEXT NOT NULL REFERENCES fns(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     source TEXT NOT NULL,
     annotations TEXT NOT NULL DEFAULT '{}',
     options TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     UNIQUE (app_id, fn_id, name)
   );
   INSERT INTO triggers_v3 (id, app_id, fn_id, name, type, source, annotations, created_at, updated_at)
     SELECT id, app_id, fn_id, name, type, source, annotations, created_at, updated_at FROM triggers;
   DROP TABLE triggers;
   ALTER TABLE triggers_v3 RENAME TO triggers;
   -- An HTTP path belongs to one function; a stream may feed many (one trigger per function).
   CREATE UNIQUE INDEX triggers_http_source ON triggers (app_id, type, source) WHERE type = 'http';
   CREATE UNIQUE INDEX triggers_stream_source ON triggers (fn_id, source) WHERE type = 'stream';
   CREATE TABLE streams (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     partitions INTEGER NOT NULL,
     retention_ms INTEGER NOT NULL,
     rr INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE stream_partitions (
     stream_id TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
     partition INTEGER NOT NULL,
     start_offset INTEGER NOT NULL DEFAULT 0,
     next_offset INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (stream_id, partition)
   );
   CREATE TABLE stream_messages (
     stream_id TEXT NOT NULL,
     partition INTEGER NOT NULL,
     offset INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     key BLOB,
     value BLOB NOT NULL,
     headers TEXT,
     PRIMARY KEY (stream_id, partition, offset)
   ) WITHOUT ROWID;
   CREATE INDEX stream_messages_ts ON stream_messages (stream_id, partition, ts);
   CREATE TABLE consumer_offsets (
     group_id TEXT NOT NULL,
     stream_id TEXT NOT NULL,
     partition INTEGER NOT NULL,
     offset INTEGER NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (group_id, stream_id, partition)
   );`,
  CALLS_MIGRATION,
  CALLS_LEASE_MIGRATION,
];

/** Maps SQLite's unique-constraint failures to a typed error naming the entity and field. */
function unique<T>(entity: UniqueViolation['entity'], run: () => T): T {
  try {
    return run();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      const field = /\.(source|type)\b/.test(e.message ?? '') ? 'source' : 'name';
      throw new UniqueViolation(entity, field);
    }
    throw err;
  }
}

const TRIGGER_CURSOR_SEP = '\u0000';

/** How often the WAL is checkpointed into the database file (see the constructor). */
const CHECKPOINT_EVERY_MS = 1000;

/** The default store: one SQLite file in WAL mode. */
export class SqliteDatastore implements Datastore {
  /** The connection, shared with the embedded stream log so offsets and records can commit together. */
  readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // SQLite's own checkpoint (by default every 1000 WAL pages, each with an fsync) ran inside whichever write crossed
    // the mark: at one offset commit per record (a batch_size 1 trigger) that was a tenth of a record's cost. A timer
    // checkpoints once a second instead, off any request; SQLite's own stays as a backstop at 10000 pages (40 MB).
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.stmt = statementCache(this.db);
    this.migrate();
    this.calls = new SqliteCallStore(this.db, this.stmt);
    if (path !== ':memory:') {
      this.checkpointer = setInterval(() => this.db.pragma('wal_checkpoint(PASSIVE)'), CHECKPOINT_EVERY_MS);
      this.checkpointer.unref();
    }
  }

  private readonly checkpointer: NodeJS.Timeout | undefined;

  private readonly stmt: (sql: string) => Database.Statement;
  readonly calls: SqliteCallStore;
  /**
   * Apps and fns by id, read on every invoke. This process is the file's only writer, and every app or fn write
   * clears the whole cache, so an entry is never stale. Entries are frozen: callers copy before changing.
   */
  private readonly byId = new Map<string, Readonly<App | Fn>>();
  private stamp = 0;

  /** This process is the file's only writer: every write of an app, fn or trigger moves it. */
  get changeStamp(): number {
    return this.stamp;
  }

  /** Before (or with) a write of an app or fn: nothing read before it is served again. */
  private changed(): void {
    this.stamp++;
    this.byId.clear();
  }

  private cached<T extends App | Fn>(key: string, load: () => T | undefined): T | undefined {
    const hit = this.byId.get(key) as T | undefined;
    if (hit) return hit;
    const value = load();
    if (value) this.byId.set(key, Object.freeze(value));
    return value;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[i] as string);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  async insertApp(app: App): Promise<App> {
    unique('app', () =>
      this.stmt(`INSERT INTO apps (id, name, config, annotations, syslog_url, shape, created_at, updated_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(app.id, app.name, JSON.stringify(app.config), JSON.stringify(app.annotations),
          app.syslog_url ?? null, app.shape ?? null, app.created_at, app.updated_at),
    );
    return app;
  }

  async updateApp(app: App): Promise<App> {
    this.changed();
    this.stmt(`UPDATE apps SET config = ?, annotations = ?, syslog_url = ?, updated_at = ? WHERE id = ?`)
      .run(JSON.stringify(app.config), JSON.stringify(app.annotations), app.syslog_url ?? null, app.updated_at, app.id);
    return app;
  }

  async getAppById(id: string): Promise<App | undefined> {
    return this.cached(`app/${id}`, () => {
      const row = this.stmt(`SELECT * FROM apps WHERE id = ?`).get(id) as AppRow | undefined;
      return row && appFromRow(row);
    });
  }

  async getAppByName(name: string): Promise<App | undefined> {
    const row = this.stmt(`SELECT * FROM apps WHERE name = ?`).get(name) as AppRow | undefined;
    return row && appFromRow(row);
  }

  async listApps(opts: ListOptions): Promise<Page<App>> {
    const rows = this.stmt(`SELECT * FROM apps WHERE name > ? AND (? IS NULL OR name = ?) ORDER BY name LIMIT ?`)
      .all(opts.after ?? '', opts.name ?? null, opts.name ?? null, opts.limit) as AppRow[];
    return page(rows, opts.limit, appFromRow, (a) => a.name);
  }

  async deleteApp(id: string): Promise<boolean> {
    this.changed();
    // Call records name their app and fn without a foreign key (recording a call must never fail on a race with
    // a delete), so they go with them here.
    return this.db.transaction(() => {
      this.stmt(`DELETE FROM calls WHERE app_id = ?`).run(id);
      return this.stmt(`DELETE FROM apps WHERE id = ?`).run(id).changes > 0;
    })();
  }

  async insertFn(fn: Fn): Promise<Fn> {
    unique('fn', () =>
      this.stmt(`INSERT INTO fns (id, app_id, name, image, memory, timeout, idle_timeout, max_containers, concurrency,
                    config, annotations, shape, created_at, updated_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(fn.id, fn.app_id, fn.name, fn.image, fn.memory, fn.timeout, fn.idle_timeout, fn.max_containers ?? null,
          fn.concurrency ?? null, JSON.stringify(fn.config), JSON.stringify(fn.annotations), fn.shape ?? null,
          fn.created_at, fn.updated_at),
    );
    return fn;
  }

  async updateFn(fn: Fn): Promise<Fn> {
    this.changed();
    this.stmt(`UPDATE fns SET image = ?, memory = ?, timeout = ?, idle_timeout = ?, max_containers = ?, concurrency = ?,
                config = ?, annotations = ?, updated_at = ? WHERE id = ?`)
      .run(fn.image, fn.memory, fn.timeout, fn.idle_timeout, fn.max_containers ?? null, fn.concurrency ?? null,
        JSON.stringify(fn.config), JSON.stringify(fn.annotations), fn.updated_at, fn.id);
    return fn;
  }

  async getFnById(id: string): Promise<Fn | undefined> {
    return this.cached(`fn/${id}`, () => {
      const row = this.stmt(`SELECT * FROM fns WHERE id = ?`).get(id) as FnRow | undefined;
      return row && fnFromRow(row);
    });
  }

  async getFnByName(appId: string, name: string): Promise<Fn | undefined> {
    const row = this.stmt(`SELECT * FROM fns WHERE app_id = ? AND name = ?`).get(appId, name) as FnRow | undefined;
    return row && fnFromRow(row);
  }

  async listFns(appId: string, opts: ListOptions): Promise<Page<Fn>> {
    const rows = this.stmt(`SELECT * FROM fns WHERE app_id = ? AND name > ? AND (? IS NULL OR name = ?) ORDER BY name LIMIT ?`)
      .all(appId, opts.after ?? '', opts.name ?? null, opts.name ?? null, opts.limit) as FnRow[];
    return page(rows, opts.limit, fnFromRow, (f) => f.name);
  }

  async deleteFn(id: string): Promise<boolean> {
    this.changed();
    return this.db.transaction(() => {
      this.stmt(`DELETE FROM calls WHERE fn_id = ?`).run(id);
      return this.stmt(`DELETE FROM fns WHERE id = ?`).run(id).changes > 0;
    })();
  }

  async insertTrigger(t: Trigger): Promise<Trigger> {
    this.changed();
    unique('trigger', () =>
      this.stmt(`INSERT INTO triggers (id, app_id, fn_id, name, type, source, annotations, options, created_at, updated_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(t.id, t.app_id, t.fn_id, t.name, t.type, t.source, JSON.stringify(t.annotations),
          t.options ? JSON.stringify(t.options) : null, t.created_at, t.updated_at),
    );
    return t;
  }

  async updateTrigger(t: Trigger): Promise<Trigger> {
    this.changed();
    unique('trigger', () =>
      this.stmt(`UPDATE triggers SET fn_id = ?, name = ?, source = ?, annotations = ?, options = ?, updated_at = ? WHERE id = ?`)
        .run(t.fn_id, t.name, t.source, JSON.stringify(t.annotations), t.options ? JSON.stringify(t.options) : null,
          t.updated_at, t.id),
    );
    return t;
  }

  async getTriggerById(id: string): Promise<Trigger | undefined> {
    const row = this.stmt(`SELECT * FROM triggers WHERE id = ?`).get(id) as TriggerRow | undefined;
    return row && triggerFromRow(row);
  }

  async getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger | undefined> {
    const row = this.stmt(`SELECT * FROM triggers WHERE app_id = ? AND type = ? AND source = ?`)
      .get(appId, type, source) as TriggerRow | undefined;
    return row && triggerFromRow(row);
  }

  async listTriggersByType(type: string): Promise<Trigger[]> {
    return (this.stmt(`SELECT * FROM triggers WHERE type = ? ORDER BY id`).all(type) as TriggerRow[]).map(triggerFromRow);
  }

  async listTriggers(appId: string, opts: ListOptions & { fnId?: string }): Promise<Page<Trigger>> {
    // Trigger names repeat across fns, so fnts's own position is (name, id) and its cursor carries both. A
    // name-only cursor (Fn's format, built by clients from a name) means "names after this one" (CONTRACT §4.6).
    const [afterName, afterId] = (opts.after ?? '').split(TRIGGER_CURSOR_SEP);
    const rows = this.stmt(`SELECT * FROM triggers WHERE app_id = ? AND (? IS NULL OR fn_id = ?)
                AND (name > ? OR (name = ? AND ? IS NOT NULL AND id > ?)) AND (? IS NULL OR name = ?) ORDER BY name, id LIMIT ?`)
      .all(appId, opts.fnId ?? null, opts.fnId ?? null, afterName ?? '', afterName ?? '', afterId ?? null, afterId ?? '',
        opts.name ?? null, opts.name ?? null, opts.limit) as TriggerRow[];
    return page(rows, opts.limit, triggerFromRow, (t) => `${t.name}${TRIGGER_CURSOR_SEP}${t.id}`);
  }

  async deleteTrigger(id: string): Promise<boolean> {
    this.changed();
    return this.stmt(`DELETE FROM triggers WHERE id = ?`).run(id).changes > 0;
  }

  async getMeta(key: string): Promise<string | undefined> {
    const row = this.stmt(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined;
    return row?.value;
  }

  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    this.stmt(`INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)`).run(key, value);
    return (await this.getMeta(key)) as string;
  }

  async close(): Promise<void> {
    clearInterval(this.checkpointer);
    this.db.close();
  }
}
