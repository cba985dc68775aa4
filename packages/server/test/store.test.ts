import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { newId } from '../src/ids.js';
import { UniqueViolation, type Datastore } from '../src/store/datastore.js';
import type { App, Fn, Trigger } from '../src/store/models.js';
import type { AppJson } from './support/api.js';
import { STORE_KINDS, type StoreLocation } from './support/stores.js';

/** The Datastore interface, on every store: a real SQLite file and a real PostgreSQL database. */
describe.each(STORE_KINDS)('$name store', (kind) => {
  let location: StoreLocation;
  let store: Datastore | undefined;
  const now = new Date().toISOString();
  const newApp = (name: string): App => ({ id: newId(), name, config: {}, annotations: {}, created_at: now, updated_at: now });
  const newFn = (app: App, name: string): Fn => ({
    id: newId(), name, app_id: app.id, image: 'i:1', memory: 128, timeout: 30, idle_timeout: 30, config: {}, annotations: {},
    created_at: now, updated_at: now,
  });
  const newTrigger = (fn: Fn, name: string, source: string, type = 'http'): Trigger => ({
    id: newId(), name, app_id: fn.app_id, fn_id: fn.id, type, source, annotations: {}, created_at: now, updated_at: now,
  });
  const open = async (): Promise<Datastore> => (store = await location.open());

  beforeEach(async () => {
    location = await kind.fresh();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await location.dispose();
  });

  it('keeps apps, fns and triggers across closing and reopening', async () => {
    const storedApp: App = {
      id: '01ABCDEFGHJKMNPQRSTVWXYZ00', name: 'persist', config: { A: 'b' }, annotations: { k: { v: [1] } },
      syslog_url: 'tcp://h:1', shape: 'GENERIC_X86', created_at: now, updated_at: now,
    };
    const storedFn: Fn = {
      id: '01ABCDEFGHJKMNPQRSTVWXYZ01', name: 'f', app_id: storedApp.id, image: 'i:1', memory: 256, timeout: 10,
      idle_timeout: 5, max_containers: 3, concurrency: 4, config: { C: 'd' }, annotations: {}, created_at: now, updated_at: now,
    };
    const storedTrigger: Trigger = {
      id: '01ABCDEFGHJKMNPQRSTVWXYZ02', name: 't', app_id: storedApp.id, fn_id: storedFn.id, type: 'http', source: '/hello',
      annotations: { a: 'b' }, created_at: now, updated_at: now,
    };
    const first = await open();
    await first.insertApp(storedApp);
    await first.insertFn(storedFn);
    await first.insertTrigger(storedTrigger);
    await first.updateFn({ ...storedFn, timeout: 20 });
    await first.close();
    store = undefined;

    const second = await open();
    expect(await second.getAppById(storedApp.id)).toEqual(storedApp);
    expect(await second.getAppByName('persist')).toEqual(storedApp);
    expect(await second.getFnById(storedFn.id)).toEqual({ ...storedFn, timeout: 20 });
    expect(await second.getFnByName(storedApp.id, 'f')).toEqual({ ...storedFn, timeout: 20 });
    expect(await second.getTriggerBySource(storedApp.id, 'http', '/hello')).toEqual(storedTrigger);
    expect((await second.listApps({ limit: 30 })).items).toEqual([storedApp]);
  });

  it('refuses a taken name or HTTP source with a UniqueViolation naming the field', async () => {
    const s = await open();
    const a = await s.insertApp(newApp('a'));
    const b = await s.insertApp(newApp('b'));
    await expect(s.insertApp(newApp('a'))).rejects.toEqual(new UniqueViolation('app', 'name'));
    const f = await s.insertFn(newFn(a, 'f'));
    const g = await s.insertFn(newFn(a, 'g'));
    await s.insertFn(newFn(b, 'f')); // names are unique per app
    await expect(s.insertFn(newFn(a, 'f'))).rejects.toEqual(new UniqueViolation('fn', 'name'));
    const t = await s.insertTrigger(newTrigger(f, 't', '/t'));
    await s.insertTrigger(newTrigger(g, 't', '/u')); // trigger names are unique per function
    await expect(s.insertTrigger(newTrigger(f, 't', '/other'))).rejects.toEqual(new UniqueViolation('trigger', 'name'));
    await expect(s.insertTrigger(newTrigger(g, 'x', '/t'))).rejects.toEqual(new UniqueViolation('trigger', 'source'));
    await expect(s.updateTrigger({ ...t, source: '/u', fn_id: f.id })).rejects.toEqual(new UniqueViolation('trigger', 'source'));
    // A stream feeds many functions, once each.
    await s.insertTrigger(newTrigger(f, 's', 'orders', 'stream'));
    await s.insertTrigger(newTrigger(g, 's', 'orders', 'stream'));
    await expect(s.insertTrigger(newTrigger(f, 's2', 'orders', 'stream'))).rejects.toEqual(new UniqueViolation('trigger', 'source'));
    expect((await s.listTriggersByType('stream')).map((x) => x.fn_id).sort()).toEqual([f.id, g.id].sort());
  });

  it('pages apps and fns by name and triggers by name then id, byte-wise, with the name filter', async () => {
    const s = await open();
    // Byte order: upper case before lower case, and an accented letter after both.
    const names = ['b', 'B', 'a', 'é', 'a_1', 'Z'];
    for (const n of names) await s.insertApp(newApp(n));
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const p = await s.listApps({ limit: 4, ...(after !== undefined ? { after } : {}) });
      seen.push(...p.items.map((x) => x.name));
      if (p.nextCursor === undefined) break;
      after = p.nextCursor;
    }
    expect(seen).toEqual(['B', 'Z', 'a', 'a_1', 'b', 'é']);
    expect((await s.listApps({ limit: 30, name: 'a_1' })).items.map((x) => x.name)).toEqual(['a_1']);
    expect((await s.listApps({ limit: 30, after: 'a' })).items.map((x) => x.name)).toEqual(['a_1', 'b', 'é']);

    const app = (await s.getAppByName('a')) as App;
    for (const n of ['y', 'x', 'z']) await s.insertFn(newFn(app, n));
    const fns = await s.listFns(app.id, { limit: 2 });
    expect(fns.items.map((x) => x.name)).toEqual(['x', 'y']);
    expect((await s.listFns(app.id, { limit: 2, after: fns.nextCursor as string })).items.map((x) => x.name)).toEqual(['z']);

    // Two functions with a trigger named alike: the cursor carries the id, so neither is skipped or repeated.
    const [f1, f2] = [(await s.getFnByName(app.id, 'x')) as Fn, (await s.getFnByName(app.id, 'y')) as Fn];
    await s.insertTrigger(newTrigger(f1, 'same', '/1'));
    await s.insertTrigger(newTrigger(f2, 'same', '/2'));
    await s.insertTrigger(newTrigger(f1, 'other', '/3'));
    const p1 = await s.listTriggers(app.id, { limit: 2 });
    const p2 = await s.listTriggers(app.id, { limit: 2, after: p1.nextCursor as string });
    const listed = [...p1.items, ...p2.items];
    expect(listed.map((t) => t.name)).toEqual(['other', 'same', 'same']);
    expect(listed.map((t) => t.source).sort()).toEqual(['/1', '/2', '/3']);
    // A name-only cursor (Fn's format) means "names after this one".
    expect((await s.listTriggers(app.id, { limit: 30, after: 'other' })).items.map((t) => t.source).sort()).toEqual(['/1', '/2']);
    expect((await s.listTriggers(app.id, { limit: 30, fnId: f1.id })).items.map((t) => t.source)).toEqual(['/3', '/1']);
  });

  it('finds nothing for a name holding U+0000, and orders such a cursor as the bytes before it', async () => {
    const s = await open();
    const a = await s.insertApp(newApp('a'));
    await s.insertApp(newApp('b'));
    expect(await s.getAppByName('a\u0000')).toBeUndefined();
    expect((await s.listApps({ limit: 30, name: 'a\u0000' })).items).toEqual([]);
    expect((await s.listApps({ limit: 30, after: 'a\u0000x' })).items.map((x) => x.name)).toEqual(['b']);
    expect(await s.getFnByName(a.id, 'f\u0000')).toBeUndefined();
    expect(await s.getTriggerBySource(a.id, 'http', '/\u0000')).toBeUndefined();
  });

  it('deletes an app with its fns, triggers and call records, and a fn with its triggers', async () => {
    const s = await open();
    const a = await s.insertApp(newApp('a'));
    const f = await s.insertFn(newFn(a, 'f'));
    const g = await s.insertFn(newFn(a, 'g'));
    const t = await s.insertTrigger(newTrigger(f, 't', '/t'));
    await s.insertTrigger(newTrigger(g, 'u', '/u'));
    await s.calls.insertMany([{ id: newId(), app_id: a.id, fn_id: g.id, type: 'sync', status: 'success', created_at: now, attempts: 1 }]);
    expect(await s.deleteFn(f.id)).toBe(true);
    expect(await s.getTriggerById(t.id)).toBeUndefined();
    expect(await s.deleteFn(f.id)).toBe(false);
    expect(await s.deleteApp(a.id)).toBe(true);
    expect(await s.getFnById(g.id)).toBeUndefined();
    expect((await s.listTriggers(a.id, { limit: 30 })).items).toEqual([]);
    expect(await s.calls.countPending()).toBe(0);
    expect((await s.calls.list(g.id, { limit: 30 })).items).toEqual([]);
    expect(await s.deleteApp(a.id)).toBe(false);
  });

  it('keeps the first value of a meta key', async () => {
    const s = await open();
    expect(await s.getMeta('k')).toBeUndefined();
    expect(await s.setMetaIfAbsent('k', 'one')).toBe('one');
    expect(await s.setMetaIfAbsent('k', 'two')).toBe('one');
    expect(await s.getMeta('k')).toBe('one');
  });

  it('serves data written through the API after the server is rebuilt on the same store', async () => {
    const config = loadConfig({ FNTS_DB: location.db, FNTS_LOG_LEVEL: 'silent' });
    const first = await buildApp({ config });
    const created = (await first.inject({ method: 'POST', url: '/v2/apps', payload: { name: 'kept', config: { A: 'b' } } })).json<AppJson>();
    await first.close();
    const second = await buildApp({ config });
    try {
      const res = await second.inject({ method: 'GET', url: `/v2/apps/${created.id}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(created);
    } finally {
      await second.close();
    }
  });
});
