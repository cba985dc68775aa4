import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { idFloor, newId } from '../src/ids.js';
import type { Datastore } from '../src/store/datastore.js';
import type { App, CallRecord, ClaimedCall, Fn } from '../src/store/models.js';
import { STORE_KINDS, type StoreLocation } from './support/stores.js';

const LEASE = 10_000;

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

      const claimed = await store.calls.claim('server-1', Date.now(), [f.id], LEASE);
      expect(claimed).toMatchObject({ id: b.id, status: 'running', attempts: 1, body: null });
      const first = await store.calls.claim('server-2', Date.now(), [], LEASE);
      expect(first).toMatchObject({ id: a.id, status: 'running', attempts: 1, headers: { 'content-type': 'text/plain', 'x-m': ['1', '2'] } });
      expect(first?.body?.toString()).toBe('input');
      expect(await store.calls.claim('server-1', Date.now(), [], LEASE)).toBeUndefined();

      await store.calls.finish(first as ClaimedCall, { status: 'error', completed_at: new Date().toISOString(), duration_ms: 7, error: 'boom', error_code: 'X' });
      expect(await store.calls.get(f.id, a.id)).toMatchObject({ status: 'error', error: 'boom', error_code: 'X', duration_ms: 7 });
      const raw = await location.callInput(store, a.id);
      // The input is gone; the owner stays: the server that ran the call to its end.
      expect(raw).toEqual({ headers: null, body: null, owner: 'server-2' });
      expect(await store.calls.countPending()).toBe(1);
    });

    it('puts a throttled call back with a due time, and queues again what a stopped server left running', async () => {
      const f = await store.insertFn(fn('f'));
      const a = record(f.id, { type: 'detached', attempts: 0 });
      await store.calls.enqueue(a, { headers: {}, body: Buffer.from('x') });
      const t = Date.now();
      const claimed = await store.calls.claim('s1', t, [], LEASE) as ClaimedCall;
      expect(await store.calls.requeue(claimed, t + 60_000, false)).toBe(true);
      expect(await store.calls.claim('s1', t, [], LEASE)).toBeUndefined();
      expect(await store.calls.nextDue(t)).toBe(t + 60_000);
      const again = await store.calls.claim('s1', t + 60_000, [], LEASE);
      expect(again).toMatchObject({ id: a.id, attempts: 2 });
      expect(again?.body?.toString()).toBe('x');

      expect(await store.calls.recover('s2')).toBe(0);
      expect(await store.calls.recover('s1')).toBe(1);
      expect(await store.calls.get(f.id, a.id)).toMatchObject({ status: 'queued', attempts: 2 });
      const third = await store.calls.claim('s1', t + 60_000, [], LEASE) as ClaimedCall;
      expect(await store.calls.requeue(third, 0, true)).toBe(true);
      expect(await store.calls.get(f.id, a.id)).toMatchObject({ status: 'queued', attempts: 2 });
    });

    it('hands a running call to another server once its lease runs out, and keeps it while the owner renews it', async () => {
      const f = await store.insertFn(fn('f'));
      const a = record(f.id, { type: 'detached', attempts: 0 });
      await store.calls.enqueue(a, { headers: { h: 'v' }, body: Buffer.from('in') });
      const t = Date.now();
      const first = await store.calls.claim('s1', t, [], 1000) as ClaimedCall;
      expect(first).toMatchObject({ id: a.id, owner: 's1', attempts: 1 });
      expect(first.previous_owner).toBeUndefined();
      // Within the lease nobody takes it, and its owner never takes over its own call, even past the lease.
      expect(await store.calls.claim('s2', t + 999, [], 1000)).toBeUndefined();
      expect(await store.calls.claim('s1', t + 5000, [], 1000)).toBeUndefined();
      // Renewed by its owner (and only by it): still not due at the old expiry.
      expect(await store.calls.renew('s2', [a.id], t + 60_000)).toEqual([]);
      expect(await store.calls.renew('s1', [a.id, 'no-such-call'], t + 3000)).toEqual([a.id]);
      expect(await store.calls.claim('s2', t + 2000, [], 1000)).toBeUndefined();
      // A saturated function's expired calls wait, like its queued ones.
      expect(await store.calls.claim('s2', t + 3001, [f.id], 1000)).toBeUndefined();

      const taken = await store.calls.claim('s2', t + 3001, [], 1000) as ClaimedCall;
      expect(taken).toMatchObject({ id: a.id, owner: 's2', previous_owner: 's1', status: 'running', attempts: 2, headers: { h: 'v' } });
      expect(taken.body?.toString()).toBe('in');
      expect(taken.epoch).toBeGreaterThan(first.epoch);
      expect(await store.calls.renew('s1', [a.id], t + 60_000)).toEqual([]);
      expect(await store.calls.countPending()).toBe(1);

      // The old owner's late result and requeue are refused; the new owner's stands.
      const late = { status: 'error' as const, completed_at: new Date().toISOString(), duration_ms: 1, error: 'late' };
      expect(await store.calls.finish(first, late)).toBe(false);
      expect(await store.calls.requeue(first, 0, true)).toBe(false);
      expect(await store.calls.get(f.id, a.id)).toMatchObject({ status: 'running', attempts: 2 });
      expect(await store.calls.finish(taken, { status: 'success', completed_at: new Date().toISOString(), duration_ms: 4 })).toBe(true);
      expect(await store.calls.finish(taken, late)).toBe(false);
      expect(await store.calls.get(f.id, a.id)).toMatchObject({ status: 'success', attempts: 2 });
      expect(await location.callInput(store, a.id)).toEqual({ headers: null, body: null, owner: 's2' });
      expect(await store.calls.claim('s3', t + 600_000, [], 1000)).toBeUndefined();
    });

    it('takes over a call whose lease ran out before a queued one, and queues a restarted owner\'s calls at once', async () => {
      const f = await store.insertFn(fn('f'));
      const older = record(f.id, { type: 'detached', attempts: 0 });
      const newer = record(f.id, { type: 'detached', attempts: 0 });
      await store.calls.enqueue(older, { headers: {}, body: null });
      await store.calls.enqueue(newer, { headers: {}, body: null });
      const t = Date.now();
      expect((await store.calls.claim('s1', t, [], 1000))?.id).toBe(older.id);
      expect((await store.calls.claim('s1', t, [], 1000))?.id).toBe(newer.id);
      const stale = record(f.id, { type: 'detached', attempts: 0 });
      await store.calls.enqueue(stale, { headers: {}, body: null });
      // Both of s1's leases ran out: they come before the queued call, the one that ran out first first.
      expect(await store.calls.renew('s1', [newer.id], t + 500)).toEqual([newer.id]);
      expect((await store.calls.claim('s2', t + 1500, [], 1000))?.id).toBe(newer.id);
      expect((await store.calls.claim('s2', t + 1500, [], 1000))?.id).toBe(older.id);
      expect((await store.calls.claim('s2', t + 1500, [], 1000))?.id).toBe(stale.id);
      // s2 restarts: everything it held is queued again, with its attempts, and claimable at once.
      expect(await store.calls.recover('s2')).toBe(3);
      const again = await store.calls.claim('s3', t + 1500, [], 1000);
      expect(again).toMatchObject({ id: older.id, attempts: 3 });
      expect(again?.previous_owner).toBeUndefined();
    });

    it('keeps queued calls across closing and reopening the store', async () => {
      const f = await store.insertFn(fn('f'));
      const a = record(f.id, { type: 'detached', attempts: 0 });
      await store.calls.enqueue(a, { headers: { h: 'v' }, body: Buffer.from('kept') });
      await store.close();
      store = await location.open();
      const claimed = await store.calls.claim('s', Date.now(), [], LEASE);
      expect(claimed?.id).toBe(a.id);
      expect(claimed?.body?.toString()).toBe('kept');
    });
  });
});
