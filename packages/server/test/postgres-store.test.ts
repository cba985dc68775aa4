import type { FastifyInstance } from 'fastify';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createDatabase, databaseUrl, startPostgresCluster } from '../../../test/support/postgres.js';
import { startKafka, type KafkaCluster } from '../../../test/support/kafka.js';
import { buildApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { newId } from '../src/ids.js';
import { StartupError } from '../src/startup-errors.js';
import { UniqueViolation } from '../src/store/datastore.js';
import type { App, CallRecord, Fn, Trigger } from '../src/store/models.js';
import { PostgresDatastore } from '../src/store/postgres.js';
import { POSTGRES_MIGRATIONS, SchemaTooNew } from '../src/store/postgres-schema.js';
import { createOn, expectError, type AppJson, type FnJson, type ListJson, type TriggerJson } from './support/api.js';

/**
 * What only a shared store has to get right: several servers (here, several stores, each with its own pool) on one
 * real PostgreSQL database at once; and a server on PostgreSQL as the operator meets it.
 */
const opened: PostgresDatastore[] = [];
const open = async (url: string): Promise<PostgresDatastore> => {
  const store = await PostgresDatastore.open(url);
  opened.push(store);
  return store;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

const now = new Date().toISOString();
const newApp = (name: string): App => ({ id: newId(), name, config: {}, annotations: {}, created_at: now, updated_at: now });

describe('several servers on one PostgreSQL database', () => {
  it('migrate once when they start at the same time', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(url)));
    expect(stores.map((s) => s.migrationsApplied).sort()).toEqual([0, 0, 0, POSTGRES_MIGRATIONS.length]);
    const { rows } = await stores[0]!.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
  });

  it('reach it over its unix socket too (an empty host and libpq\'s host= parameter)', async () => {
    const url = new URL(await createDatabase(inject('postgresUrl')));
    // The socket's name carries the port the cluster listens on.
    const store = await open(`postgres://${url.username}@${url.pathname}?host=${inject('postgresSocketDir')}&port=${url.port}`);
    await store.insertApp(newApp('over-the-socket'));
    const { rows } = await store.pool.query<{ tcp: string | null }>('SELECT inet_client_addr()::text AS tcp');
    expect(rows[0]?.tcp).toBeNull();
  });

  it('refuse a database whose schema is newer than they know', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const first = await open(url);
    await first.pool.query('INSERT INTO schema_migrations (version) VALUES ($1)', [POSTGRES_MIGRATIONS.length + 1]);
    await expect(PostgresDatastore.open(url)).rejects.toBeInstanceOf(SchemaTooNew);
    const refused = await buildApp({ config: loadConfig({ FNTS_DB: url, FNTS_LOG_LEVEL: 'silent' }) }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(StartupError);
    expect(refused).toMatchObject({ code: 'FNTS_ERR_START_DB', hint: expect.stringContaining('upgrade fnts') });
  });

  it('keep names unique across connections: 20 creates of one app name at once, one stored, nineteen refused', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const [a, b] = [await open(url), await open(url)];
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).insertApp(newApp('shared'))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    expect(refused).toHaveLength(19);
    for (const reason of refused) expect(reason).toEqual(new UniqueViolation('app', 'name'));
    expect((await b.listApps({ limit: 30 })).items.map((x) => x.name)).toEqual(['shared']);
  });

  it('cache apps and fns by id, each reading its own writes at once and the others\' once notified (LISTEN/NOTIFY)', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const [a, b] = [await open(url), await open(url)];
    const app = newApp('cached');
    await a.insertApp(app);
    const fn: Fn = {
      id: newId(), name: 'f', app_id: app.id, image: 'i:1', memory: 128, timeout: 30, idle_timeout: 30, config: {}, annotations: {},
      created_at: now, updated_at: now,
    };
    await a.insertFn(fn);
    expect((await b.getFnById(fn.id))?.image).toBe('i:1');
    // A change behind the stores' backs (no notification) is not seen: b answers from its cache.
    await b.pool.query(`UPDATE fns SET image = 'i:unseen' WHERE id = $1`, [fn.id]);
    expect((await b.getFnById(fn.id))?.image).toBe('i:1');

    await a.updateFn({ ...fn, image: 'i:2' });
    expect((await a.getFnById(fn.id))?.image).toBe('i:2');
    await vi.waitFor(async () => expect((await b.getFnById(fn.id))?.image).toBe('i:2'), { timeout: 5000, interval: 5 });
    await a.updateApp({ ...app, config: { k: 'v' } });
    await vi.waitFor(async () => expect((await b.getAppById(app.id))?.config).toEqual({ k: 'v' }), { timeout: 5000, interval: 5 });
    await a.deleteFn(fn.id);
    await vi.waitFor(async () => expect(await b.getFnById(fn.id)).toBeUndefined(), { timeout: 5000, interval: 5 });
  });

  it('cache apps by name and HTTP triggers by source (what a trigger call reads) the same way', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const [a, b] = [await open(url), await open(url)];
    const app = await a.insertApp(newApp('by-name'));
    const fn: Fn = {
      id: newId(), name: 'f', app_id: app.id, image: 'i:1', memory: 128, timeout: 30, idle_timeout: 30, config: {}, annotations: {},
      created_at: now, updated_at: now,
    };
    await a.insertFn(fn);
    const trigger: Trigger = {
      id: newId(), app_id: app.id, fn_id: fn.id, name: 't', type: 'http', source: '/old', annotations: {}, created_at: now, updated_at: now,
    };
    // Not there yet: a miss is not cached, so the insert is seen at once.
    expect(await b.getTriggerBySource(app.id, 'http', '/old')).toBeUndefined();
    const stamp = b.changeStamp;
    await a.insertTrigger(trigger);
    // The insert's notification drops b's cache whenever it arrives: wait for it, so what b caches next stays.
    await vi.waitFor(() => expect(b.changeStamp).not.toBe(stamp), { timeout: 5000, interval: 5 });
    expect((await b.getTriggerBySource(app.id, 'http', '/old'))?.id).toBe(trigger.id);
    expect((await b.getAppByName('by-name'))?.id).toBe(app.id);
    // Behind the stores' backs (no notification): b answers from its cache.
    await b.pool.query(`UPDATE triggers SET annotations = '{"k":"unseen"}' WHERE id = $1`, [trigger.id]);
    await b.pool.query(`UPDATE apps SET config = '{"k":"unseen"}' WHERE id = $1`, [app.id]);
    expect((await b.getTriggerBySource(app.id, 'http', '/old'))?.annotations).toEqual({});
    expect((await b.getAppByName('by-name'))?.config).toEqual({});

    await a.updateTrigger({ ...trigger, source: '/new' });
    await vi.waitFor(async () => expect(await b.getTriggerBySource(app.id, 'http', '/old')).toBeUndefined(), { timeout: 5000, interval: 5 });
    expect((await b.getTriggerBySource(app.id, 'http', '/new'))?.id).toBe(trigger.id);
    await a.deleteTrigger(trigger.id);
    await vi.waitFor(async () => expect(await b.getTriggerBySource(app.id, 'http', '/new')).toBeUndefined(), { timeout: 5000, interval: 5 });
    expect((await b.getAppByName('by-name'))?.config).toEqual({ k: 'unseen' });
    await a.deleteApp(app.id);
    await vi.waitFor(async () => expect(await b.getAppByName('by-name')).toBeUndefined(), { timeout: 5000, interval: 5 });
  });

  it('hand each detached call to exactly one of them when both claim at once, and each expired one to exactly one taker', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const [a, b] = [await open(url), await open(url)];
    const app = await a.insertApp(newApp('detached'));
    const fn: Fn = {
      id: newId(), name: 'f', app_id: app.id, image: 'i:1', memory: 128, timeout: 30, idle_timeout: 30, config: {}, annotations: {},
      created_at: now, updated_at: now,
    };
    await a.insertFn(fn);
    const queued: CallRecord[] = Array.from({ length: 60 }, () => ({
      id: newId(), app_id: app.id, fn_id: fn.id, type: 'detached', status: 'queued', created_at: now, attempts: 0,
    }));
    for (const c of queued) await a.calls.enqueue(c, { headers: {}, body: Buffer.from(c.id) });
    // Four claimers per server, each claiming until the queue is empty (bounded by the number of calls).
    const claimer = async (store: PostgresDatastore, owner: string): Promise<string[]> => {
      const got: string[] = [];
      for (let i = 0; i <= queued.length; i++) {
        const call = await store.calls.claim(owner, Date.now(), [], 10_000);
        if (!call) break;
        expect(call.body?.toString()).toBe(call.id);
        got.push(call.id);
      }
      return got;
    };
    const claims = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => claimer(a, `server-a/${i}`)),
      ...Array.from({ length: 4 }, (_, i) => claimer(b, `server-b/${i}`)),
    ]);
    const all = claims.flat();
    expect(all).toHaveLength(queued.length);
    expect(new Set(all).size).toBe(queued.length);
    // Both servers got work: the claims really ran side by side.
    expect(claims.slice(0, 4).flat().length).toBeGreaterThan(0);
    expect(claims.slice(4).flat().length).toBeGreaterThan(0);
    const { rows } = await b.pool.query<{ n: number }>(`SELECT COUNT(*) AS n FROM calls WHERE status = 'running' AND attempts = 1`);
    expect(rows[0]?.n).toBe(queued.length);

    // Every lease has run out (a later clock): other claimers take each call over exactly once, from its owner.
    const later = Date.now() + 60_000;
    const takers = async (store: PostgresDatastore, owner: string): Promise<string[]> => {
      const got: string[] = [];
      for (let i = 0; i <= queued.length; i++) {
        const call = await store.calls.claim(owner, later, [], 10_000);
        if (!call) break;
        expect(call.previous_owner).toMatch(/^server-[ab]\//);
        got.push(call.id);
      }
      return got;
    };
    const taken = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => takers(a, `server-c/${i}`)),
      ...Array.from({ length: 4 }, (_, i) => takers(b, `server-d/${i}`)),
    ]);
    expect(taken.flat().sort()).toEqual(queued.map((c) => c.id).sort());
    const { rows: after } = await b.pool.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM calls WHERE status = 'running' AND attempts = 2 AND owner ~ '^server-[cd]/'`);
    expect(after[0]?.n).toBe(queued.length);
  });
});

describe('a server on PostgreSQL', () => {
  let kafka: KafkaCluster;
  let server: FastifyInstance | undefined;
  beforeAll(async () => {
    kafka = await startKafka({ orders: 2 });
  });
  afterAll(async () => {
    await kafka?.stop();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (env: Record<string, string> = {}): Promise<{ srv: FastifyInstance; appId: string; fnId: string }> => {
    const srv = await buildApp({ config: loadConfig({ FNTS_DB: await createDatabase(inject('postgresUrl')), FNTS_LOG_LEVEL: 'silent', ...env }) });
    server = srv;
    const app = await createOn<AppJson>(srv, '/v2/apps', { name: 'pg' });
    const fn = await createOn<FnJson>(srv, '/v2/fns', { app_id: app.id, name: 'f', image: 'fnts-test-no-such-image:0.0.0' });
    return { srv, appId: app.id, fnId: fn.id };
  };

  it('answers 503 with a code while its database is gone, and still finds the functions it has cached', async () => {
    // A cluster of its own: this test stops it.
    const cluster = await startPostgresCluster();
    try {
      const srv = await buildApp({ config: loadConfig({ FNTS_DB: await createDatabase(cluster.url), FNTS_LOG_LEVEL: 'silent' }) });
      server = srv;
      const app = await createOn<AppJson>(srv, '/v2/apps', { name: 'outage' });
      const fn = await createOn<FnJson>(srv, '/v2/fns', { app_id: app.id, name: 'f', image: 'fnts-test-no-such-image:0.0.0' });
      expect((await srv.inject({ method: 'GET', url: `/v2/fns/${fn.id}` })).statusCode).toBe(200);
      await cluster.stop();

      const write = await srv.inject({ method: 'POST', url: '/v2/apps', payload: { name: 'during-outage' } });
      expectError(write, 503, 'The database cannot be reached; try again later', 'FNTS_ERR_STORE_UNAVAILABLE');
      expect(write.headers['retry-after']).toBe('5');
      expectError(await srv.inject({ method: 'GET', url: '/v2/apps' }), 503, /database/, 'FNTS_ERR_STORE_UNAVAILABLE');
      // What an invoke reads (the fn and its app by id) still comes from this server's cache.
      const cached = await srv.inject({ method: 'GET', url: `/v2/fns/${fn.id}` });
      expect(cached.statusCode).toBe(200);
      expect(cached.json<FnJson>().image).toBe('fnts-test-no-such-image:0.0.0');
    } finally {
      await cluster.stop();
    }
  });

  it('serves embedded streams and their triggers, leased to this server, beside Kafka triggers', async () => {
    const { srv, appId, fnId } = await start({ FNTS_SERVER_ID: 'pg-server-1' });
    await createOn(srv, '/v2/streams', { name: 'orders', partitions: 2 });
    const put = await srv.inject({ method: 'POST', url: '/v2/streams/orders/messages', payload: { messages: [{ key: 'k', value: 'v' }] } });
    expect(put.statusCode, put.body).toBe(200);
    const trigger = { app_id: appId, fn_id: fnId, type: 'stream' };
    const e = await createOn<TriggerJson>(srv, '/v2/triggers', { ...trigger, name: 'e', source: 'orders', options: { start_position: 'latest' } });
    // The only live server takes both partitions' leases at its next renewal (at once: the create announces it).
    const until = Date.now() + 10_000;
    let owners: (string | null | undefined)[] = [];
    while (Date.now() < until) {
      const status = await srv.inject({ method: 'GET', url: `/v2/triggers/${e.id}/status` });
      owners = status.json<{ partitions: { owner?: string | null }[] }>().partitions.map((p) => p.owner);
      if (owners.length === 2 && owners.every((o) => o === 'pg-server-1')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(owners).toEqual(['pg-server-1', 'pg-server-1']);

    const k = await createOn<TriggerJson>(srv, '/v2/triggers', { ...trigger, name: 'k', source: `kafka://${kafka.brokers}/orders` });
    expect(k.source).toBe(`kafka://${kafka.brokers}/orders`);
    const listed = (await srv.inject({ method: 'GET', url: `/v2/triggers?app_id=${appId}` })).json<ListJson<TriggerJson>>();
    expect(listed.items.map((t) => t.id).sort()).toEqual([e.id, k.id].sort());
  });

  it('refuses to start on a wrong or unreachable URL with one StartupError, its code and a hint, and no password shown', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const startWith = (db: string) => buildApp({ config: loadConfig({ FNTS_DB: db, FNTS_LOG_LEVEL: 'silent' }) }).catch((err: unknown) => err);

    const unreachable = await startWith(`postgres://fnts:secret@127.0.0.1:${port}/fnts`);
    expect(unreachable).toBeInstanceOf(StartupError);
    expect(unreachable).toMatchObject({
      code: 'FNTS_ERR_START_DB',
      message: `cannot open the database postgres://fnts:***@127.0.0.1:${port}/fnts: nothing listens there (ECONNREFUSED)`,
      hint: expect.stringContaining('--db postgres://'),
    });
    const noDatabase = await startWith(databaseUrl(inject('postgresUrl'), 'fnts_no_such_database'));
    expect(noDatabase).toMatchObject({ code: 'FNTS_ERR_START_DB', message: expect.stringMatching(/: the database does not exist$/) });
    const noRole = new URL(inject('postgresUrl'));
    noRole.username = 'nobody_here';
    expect(await startWith(noRole.toString())).toMatchObject({
      code: 'FNTS_ERR_START_DB', message: expect.stringContaining('role "nobody_here" does not exist'),
    });
    expect(loadConfig({ FNTS_DB: 'postgres://u@/fnts?host=/run/postgresql' }).postgresUrl).toBe('postgres://u@/fnts?host=/run/postgresql');
    expect(() => loadConfig({ FNTS_DB: 'postgres://fnts:secret@[::1' })).toThrow(ConfigError);
    expect(() => loadConfig({ FNTS_DB: 'postgres://fnts:secret@[::1' })).toThrow('FNTS_DB=postgres://fnts:***@[::1 is not a valid URL');
  });
});
