import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { idFloor, newId } from '../src/ids.js';
import type { Datastore } from '../src/store/datastore.js';
import type { App, CallRecord, Fn } from '../src/store/models.js';
import { STORE_KINDS, type StoreLocation } from './support/stores.js';

/** The call records and the durable detached queue, on every store (a real SQLite file, a real PostgreSQL database). */
describe.each(STORE_KINDS)('$name', (kind) => {
  let location: StoreLocation;
  let store: Datastore;
  const now = new Date().toISOString();
  const app: App = { id: newId(), name: 'calls', config: {}, annotations: {}, created_at: now, updated_at: now };
  const fn = (name: string): Fn => ({
    id: newId(), name, app_id: app.id, image: 'i:1', memory: 128, timeout: 30, idle_timeout: 30, config: {}, annotations: {},
    created_at: now, updated_at: now,
  });
  const record = (fnId: string, over: Partial<CallRecord> = {}): CallRecord => ({
    id: newId(), app_id: app.id, fn_id: fnId, type: 'sync', status: 'success', created_at: new Date().toISOString(),
    completed_at: new Date().toISOString(), duration_ms: 3, attempts: 1, ...over,
  });

  beforeEach(async () => {
    location = await kind.fresh();
    store = await location.open();
    await store.insertApp(app);
  });
  afterEach(async () => {
    await store.close();
    await location.dispose();
  });

  describe('call records', () => {
    it('lists a function\'s calls newest first, page by page, and gets one by id', async () => {
      const f = await store.insertFn(fn('f'));
      const other = await store.insertFn(fn('g'));
      const calls = Array.from({ length: 5 }, (_, i) => record(f.id, { error: `e${i}`, status: 'error', trigger_id: 'T' }));
      await store.calls.insertMany([...calls, record(other.id)]);
      await store.calls.insertMany([calls[0] as CallRecord]); // a repeat is ignored
      const first = await store.calls.list(f.id, { limit: 2 });
      expect(first.items.map((c) => c.id)).toEqual([calls[4]?.id, calls[3]?.id]);
      const second = await store.calls.list(f.id, { limit: 2, after: first.nextCursor as string });
      expect(second.items.map((c) => c.id)).toEqual([calls[2]?.id, calls[1]?.id]);
      const third = await store.calls.list(f.id, { limit: 2, after: second.nextCursor as string });
      expect(third).toEqual({ items: [calls[0]] });
      expect(await store.calls.get(f.id, calls[2]?.id as string)).toEqual(calls[2]);
      expect(await store.calls.get(other.id, calls[2]?.id as string)).toBeUndefined();
    });

    it('keeps the newest records per function and none past the age, never a pending detached call', async () => {
      const f = await store.insertFn(fn('f'));
      const old = { id: `${idFloor(Date.now() - 10_000).slice(0, 10)}${newId().slice(10)}` };
      await store.calls.insertMany([record(f.id, old)]);
      await store.calls.enqueue(record(f.id, { id: `${idFloor(Date.now() - 20_000).slice(0, 10)}${newId().slice(10)}`, type: 'detached' }), {
        headers: {}, body: null,
      });
      const fresh = Array.from({ length: 4 }, () => record(f.id));
      await store.calls.insertMany(fresh);
      expect(await store.calls.trim({ perFn: 100, maxAgeMs: 5000 }, Date.now())).toBe(1);
      expect(await store.calls.trim({ perFn: 2, maxAgeMs: 5000 }, Date.now())).toBe(2);
      const left = (await store.calls.list(f.id, { limit: 10 })).items;
      expect(left.map((c) => c.status)).toEqual(['success', 'success', 'queued']);
      expect(left.slice(0, 2).map((c) => c.id)).toEqual([fresh[3]?.id, fresh[2]?.id]);
    });

    it('deletes a function\'s records with the function', async () => {
      const f = await store.insertFn(fn('f'));
      await store.calls.insertMany([record(f.id)]);
      await store.deleteFn(f.id);
      expect((await store.calls.list(f.id, { limit: 10 })).items).toEqual([]);
    });
  });

  describe('detached queue in the store', () => {
    it('claims each queued call once, oldest first, skipping saturated functions, and keeps its input until it ends', async () => {
      const f = await store.insertFn(fn('f'));
      const g = await store.insertFn(fn('g'));
      const a = record(f.id, { type: 'detached', attempts: 0 });
      const b = record(g.id, { type: 'detached', attempts: 0 });
      await store.calls.enqueue(a, { headers: { 'content-type': 'text/plain', 'x-m': ['1', '2'] }, body: Buffer.from('input') });
      await store.calls.enqueue(b, { headers: {}, body: null });
      expect(await store.calls.countPending()).toBe(2);

      const claimed = await store.calls.claim('server-1', Date.now(), [f.id]);
      expect(claimed).toMatchObject({ id: b.id, status: 'running', attempts: 1, body: null });
      const first = await store.calls.claim('server-2', Date.now(), []);
      expect(first).toMatchObject({ id: a.id, status: 'running', attempts: 1, headers: { 'content-type': 'text/plain', 'x-m': ['1', '2'] } });
      expect(first?.body?.toString()).toBe('input');
      expect(await store.calls.claim('server-1', Date.now(), [])).toBeUndefined();

      await store.calls.finish(a.id, { status: 'error', completed_at: new Date().toISOString(), duration_ms: 7, error: 'boom', error_code: 'X' });
      expect(await store.calls.get(f.id, a.id)).toMatchObject({ status: 'error', error: 'boom', error_code: 'X', duration_ms: 7 });
      const raw = await location.callInput(store, a.id);
      expect(raw).toEqual({ headers: null, body: null, owner: null });
      expect(await store.calls.countPending()).toBe(1);
    });

    it('puts a throttled call back with a due time, and queues again what a stopped server left running', async () => {
      const f = await store.insertFn(fn('f'));
      const a = record(f.id, { type: 'detached', attempts: 0 });
      await store.calls.enqueue(a, { headers: {}, body: Buffer.from('x') });
      const t = Date.now();
      await store.calls.claim('s1', t, []);
      await store.calls.requeue(a.id, t + 60_000, false);
      expect(await store.calls.claim('s1', t, [])).toBeUndefined();
      expect(await store.calls.nextDue(t)).toBe(t + 60_000);
      const again = await store.calls.claim('s1', t + 60_000, []);
      expect(again).toMatchObject({ id: a.id, attempts: 2 });
      expect(again?.body?.toString()).toBe('x');

      expect(await store.calls.recover('s2')).toBe(0);
      expect(await store.calls.recover('s1')).toBe(1);
      expect(await store.calls.get(f.id, a.id)).toMatchObject({ status: 'queued', attempts: 2 });
      await store.calls.claim('s1', t + 60_000, []);
      await store.calls.requeue(a.id, 0, true);
      expect(await store.calls.get(f.id, a.id)).toMatchObject({ status: 'queued', attempts: 2 });
    });

    it('keeps queued calls across closing and reopening the store', async () => {
      const f = await store.insertFn(fn('f'));
      const a = record(f.id, { type: 'detached', attempts: 0 });
      await store.calls.enqueue(a, { headers: { h: 'v' }, body: Buffer.from('kept') });
      await store.close();
      store = await location.open();
      const claimed = await store.calls.claim('s', Date.now(), []);
      expect(claimed?.id).toBe(a.id);
      expect(claimed?.body?.toString()).toBe('kept');
    });
  });
});
