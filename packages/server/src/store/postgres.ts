import pg from 'pg';
import { UniqueViolation, type Datastore } from './datastore.js';
import type { App, Fn, ListOptions, Page, Trigger } from './models.js';
import { ChangeListeningCache, CHANGES_CHANNEL } from './postgres-cache.js';
import { PostgresCallStore } from './postgres-calls.js';
import { PostgresListener } from './postgres-listen.js';
import { GuardedPool } from './postgres-pool.js';
import { migrate } from './postgres-schema.js';
import { appFromRow, fnFromRow, page, triggerFromRow, type AppRow, type FnRow, type TriggerRow } from './rows.js';

/** Options of the PostgreSQL store; the URL is the only required one. */
export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** How long opening one connection may take before it fails (default 10 s): an unreachable host is an error, not a hang. */
  connectTimeoutMs?: number;
}

/** A transaction left idle this long is ended by the database (below the default stream lease time, 6 s). */
const IDLE_IN_TRANSACTION_MS = 5000;

/** The OID of int8: counts and epoch-ms columns, well inside a double's exact range, read as numbers (pg gives strings). */
const INT8_OID = 20;
/** This pool's parsers only (pg.types.setTypeParser would change them for the whole process). */
const types: pg.CustomTypesConfig = {
  // An arrow cannot implement getTypeParser's text/binary overloads; it answers the text parser, the only one used.
  getTypeParser: ((oid: number) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid))) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * PostgreSQL text cannot hold U+0000, which SQLite stores; an API parameter (a name, a cursor) may carry one. Nothing
 * stored can equal such a text, and cut at its first U+0000 it keeps its order against everything storable.
 */
const hasNul = (s: string | undefined): boolean => s !== undefined && s.includes('\u0000');
const cutNul = (s: string): string => {
  const at = s.indexOf('\u0000');
  return at < 0 ? s : s.slice(0, at);
};

/** Maps PostgreSQL's unique-constraint failures (23505) to a typed error naming the entity and field. */
async function unique<T>(entity: UniqueViolation['entity'], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (e.code === '23505') throw new UniqueViolation(entity, /source/.test(e.constraint ?? '') ? 'source' : 'name');
    throw err;
  }
}

const TRIGGER_CURSOR_SEP = '\u0000';

/**
 * The shared store for several servers: PostgreSQL through a node-postgres pool. What a call reads before it runs
 * (apps and fns by id, apps by name, triggers by source) is cached in the process and dropped on every server when
 * any of them writes an app, a fn or a trigger (LISTEN/NOTIFY, see postgres-cache.ts); everything else is read from
 * the database.
 */
export class PostgresDatastore implements Datastore {
  readonly calls: PostgresCallStore;

  private constructor(
    /** The pool; tests read it to look at rows directly. */
    readonly pool: pg.Pool,
    /** Migrations this store applied when it opened (0 when another server had already applied them). */
    readonly migrationsApplied: number,
    /** The server's one LISTEN connection: the cache's changes, the embedded log's appends. */
    readonly listener: PostgresListener,
    private readonly cache: ChangeListeningCache,
  ) {
    this.db = new GuardedPool(pool);
    this.calls = new PostgresCallStore(this.db);
  }

  /** The pool every statement goes through: a lost database is a 503 with a code, not a 500. */
  private readonly db: GuardedPool;

  /** Connects, migrates under an advisory lock, and returns the store; a failure closes the pool and rethrows. */
  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresDatastore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.maxConnections ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      application_name: 'fnts',
      types,
      // A server frozen inside a transaction (SIGSTOP, a stalled VM) keeps its session and its row locks: the database
      // ends such a session, so a stream commit it was making cannot hold up the server that took its partition over.
      options: `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`,
    });
    // An idle connection that breaks (the database restarted) is dropped by the pool; the next query opens another.
    pool.on('error', () => undefined);
    const listener = new PostgresListener({
      connectionString: url, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, application_name: 'fnts-listen',
    });
    const cache = new ChangeListeningCache(listener);
    try {
      const applied = await migrate(pool);
      await cache.start();
      await listener.start();
      return new PostgresDatastore(pool, applied, listener, cache);
    } catch (err) {
      await listener.close();
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  private async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return (await this.db.query<R>(sql, params)).rows;
  }

  /**
   * After a committed write of an app, a fn or a trigger: this server's cache is dropped before the write answers, every other
   * server's when the notification reaches it.
   */
  get changeStamp(): number | undefined {
    return this.cache.stamp;
  }

  private async changed<T>(result: T): Promise<T> {
    this.cache.drop();
    await this.db.query(`NOTIFY ${CHANGES_CHANNEL}`);
    return result;
  }

  private async inTransaction<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return (await this.db.transaction(async (c) => ({ commit: true, value: await run(c) }))).value;
  }

  async insertApp(app: App): Promise<App> {
    await unique('app', () => this.db.query(
      `INSERT INTO apps (id, name, config, annotations, syslog_url, shape, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [app.id, app.name, JSON.stringify(app.config), JSON.stringify(app.annotations), app.syslog_url ?? null,
        app.shape ?? null, app.created_at, app.updated_at],
    ));
    return app;
  }

  async updateApp(app: App): Promise<App> {
    await this.db.query(`UPDATE apps SET config = $1, annotations = $2, syslog_url = $3, updated_at = $4 WHERE id = $5`,
      [JSON.stringify(app.config), JSON.stringify(app.annotations), app.syslog_url ?? null, app.updated_at, app.id]);
    return this.changed(app);
  }

  async getAppById(id: string): Promise<App | undefined> {
    if (hasNul(id)) return undefined;
    return this.cache.get(`app/${id}`, async () => {
      const [row] = await this.rows<AppRow>(`SELECT * FROM apps WHERE id = $1`, [id]);
      return row && appFromRow(row);
    });
  }

  async getAppByName(name: string): Promise<App | undefined> {
    if (hasNul(name)) return undefined;
    // Read on every HTTP-trigger call; an app's name never changes, and every app write drops the cache.
    return this.cache.get(`app-name/${name}`, async () => {
      const [row] = await this.rows<AppRow>(`SELECT * FROM apps WHERE name = $1`, [name]);
      return row && appFromRow(row);
    });
  }

  async listApps(opts: ListOptions): Promise<Page<App>> {
    if (hasNul(opts.name)) return { items: [] };
    const rows = await this.rows<AppRow>(
      `SELECT * FROM apps WHERE name > $1 AND ($2::text IS NULL OR name = $2) ORDER BY name LIMIT $3`,
      [cutNul(opts.after ?? ''), opts.name ?? null, opts.limit]);
    return page(rows, opts.limit, appFromRow, (a) => a.name);
  }

  async deleteApp(id: string): Promise<boolean> {
    if (hasNul(id)) return false;
    // Call records name their app and fn without a foreign key (recording a call must never fail on a race with
    // a delete), so they go with them here.
    return this.changed(await this.inTransaction(async (c) => {
      await c.query(`DELETE FROM calls WHERE app_id = $1`, [id]);
      return ((await c.query(`DELETE FROM apps WHERE id = $1`, [id])).rowCount ?? 0) > 0;
    }));
  }

  async insertFn(fn: Fn): Promise<Fn> {
    await unique('fn', () => this.db.query(
      `INSERT INTO fns (id, app_id, name, image, memory, timeout, idle_timeout, max_containers, concurrency,
         config, annotations, shape, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [fn.id, fn.app_id, fn.name, fn.image, fn.memory, fn.timeout, fn.idle_timeout, fn.max_containers ?? null,
        fn.concurrency ?? null, JSON.stringify(fn.config), JSON.stringify(fn.annotations), fn.shape ?? null,
        fn.created_at, fn.updated_at],
    ));
    return fn;
  }

  async updateFn(fn: Fn): Promise<Fn> {
    await this.db.query(
      `UPDATE fns SET image = $1, memory = $2, timeout = $3, idle_timeout = $4, max_containers = $5, concurrency = $6,
         config = $7, annotations = $8, updated_at = $9 WHERE id = $10`,
      [fn.image, fn.memory, fn.timeout, fn.idle_timeout, fn.max_containers ?? null, fn.concurrency ?? null,
        JSON.stringify(fn.config), JSON.stringify(fn.annotations), fn.updated_at, fn.id]);
    return this.changed(fn);
  }

  async getFnById(id: string): Promise<Fn | undefined> {
    if (hasNul(id)) return undefined;
    return this.cache.get(`fn/${id}`, async () => {
      const [row] = await this.rows<FnRow>(`SELECT * FROM fns WHERE id = $1`, [id]);
      return row && fnFromRow(row);
    });
  }

  async getFnByName(appId: string, name: string): Promise<Fn | undefined> {
    if (hasNul(appId) || hasNul(name)) return undefined;
    const [row] = await this.rows<FnRow>(`SELECT * FROM fns WHERE app_id = $1 AND name = $2`, [appId, name]);
    return row && fnFromRow(row);
  }

  async listFns(appId: string, opts: ListOptions): Promise<Page<Fn>> {
    if (hasNul(appId) || hasNul(opts.name)) return { items: [] };
    const rows = await this.rows<FnRow>(
      `SELECT * FROM fns WHERE app_id = $1 AND name > $2 AND ($3::text IS NULL OR name = $3) ORDER BY name LIMIT $4`,
      [appId, cutNul(opts.after ?? ''), opts.name ?? null, opts.limit]);
    return page(rows, opts.limit, fnFromRow, (f) => f.name);
  }

  async deleteFn(id: string): Promise<boolean> {
    if (hasNul(id)) return false;
    return this.changed(await this.inTransaction(async (c) => {
      await c.query(`DELETE FROM calls WHERE fn_id = $1`, [id]);
      return ((await c.query(`DELETE FROM fns WHERE id = $1`, [id])).rowCount ?? 0) > 0;
    }));
  }

  async insertTrigger(t: Trigger): Promise<Trigger> {
    await unique('trigger', () => this.db.query(
      `INSERT INTO triggers (id, app_id, fn_id, name, type, source, annotations, options, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [t.id, t.app_id, t.fn_id, t.name, t.type, t.source, JSON.stringify(t.annotations),
        t.options ? JSON.stringify(t.options) : null, t.created_at, t.updated_at],
    ));
    return this.changed(t);
  }

  async updateTrigger(t: Trigger): Promise<Trigger> {
    await unique('trigger', () => this.db.query(
      `UPDATE triggers SET fn_id = $1, name = $2, source = $3, annotations = $4, options = $5, updated_at = $6 WHERE id = $7`,
      [t.fn_id, t.name, t.source, JSON.stringify(t.annotations), t.options ? JSON.stringify(t.options) : null,
        t.updated_at, t.id],
    ));
    return this.changed(t);
  }

  async getTriggerById(id: string): Promise<Trigger | undefined> {
    if (hasNul(id)) return undefined;
    const [row] = await this.rows<TriggerRow>(`SELECT * FROM triggers WHERE id = $1`, [id]);
    return row && triggerFromRow(row);
  }

  async getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger | undefined> {
    if (hasNul(appId) || hasNul(type) || hasNul(source)) return undefined;
    // Read on every HTTP-trigger call; a trigger's update or delete drops the cache everywhere, like an app's or a fn's.
    // NUL cannot occur in any part (checked above), so it separates them.
    return this.cache.get(`trigger\u0000${appId}\u0000${type}\u0000${source}`, async () => {
      const [row] = await this.rows<TriggerRow>(`SELECT * FROM triggers WHERE app_id = $1 AND type = $2 AND source = $3`,
        [appId, type, source]);
      return row && triggerFromRow(row);
    });
  }

  async listTriggersByType(type: string): Promise<Trigger[]> {
    return (await this.rows<TriggerRow>(`SELECT * FROM triggers WHERE type = $1 ORDER BY id`, [type])).map(triggerFromRow);
  }

  async listTriggers(appId: string, opts: ListOptions & { fnId?: string }): Promise<Page<Trigger>> {
    if (hasNul(appId) || hasNul(opts.fnId) || hasNul(opts.name)) return { items: [] };
    // Trigger names repeat across fns, so fnts's own position is (name, id) and its cursor carries both. A
    // name-only cursor (Fn's format, built by clients from a name) means "names after this one" (CONTRACT §4.6).
    const [afterName = '', afterId] = (opts.after ?? '').split(TRIGGER_CURSOR_SEP);
    const rows = await this.rows<TriggerRow>(
      `SELECT * FROM triggers WHERE app_id = $1 AND ($2::text IS NULL OR fn_id = $2)
         AND (name > $3 OR (name = $3 AND $4::text IS NOT NULL AND id > $4)) AND ($5::text IS NULL OR name = $5)
       ORDER BY name, id LIMIT $6`,
      [appId, opts.fnId ?? null, afterName, afterId ?? null, opts.name ?? null, opts.limit]);
    return page(rows, opts.limit, triggerFromRow, (t) => `${t.name}${TRIGGER_CURSOR_SEP}${t.id}`);
  }

  async deleteTrigger(id: string): Promise<boolean> {
    if (hasNul(id)) return false;
    return this.changed(((await this.db.query(`DELETE FROM triggers WHERE id = $1`, [id])).rowCount ?? 0) > 0);
  }

  async getMeta(key: string): Promise<string | undefined> {
    const [row] = await this.rows<{ value: string }>(`SELECT value FROM meta WHERE key = $1`, [key]);
    return row?.value;
  }

  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    await this.db.query(`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [key, value]);
    return (await this.getMeta(key)) as string;
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.pool.end();
  }
}
