import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallTargets } from '../src/api/call-targets.js';
import { newId } from '../src/ids.js';
import type { Datastore } from '../src/store/datastore.js';
import type { App, Fn, Trigger } from '../src/store/models.js';
import { STORE_KINDS, type StoreLocation } from './support/stores.js';

/** The call path's resolutions are kept while nothing they were made from changed, on every store, and no longer. */
describe.each(STORE_KINDS)('call targets on the $name store', (kind) => {
  let location: StoreLocation;
  let store: Datastore;
  const now = new Date().toISOString();
  const app: App = { id: newId(), name: 'targets', config: {}, annotations: {}, created_at: now, updated_at: now };
  const fn: Fn = {
    id: newId(), name: 'f', app_id: app.id, image: 'i:1', memory: 128, timeout: 30, idle_timeout: 30, config: {}, annotations: {},
    created_at: now, updated_at: now,
  };
  const trigger: Trigger = {
    id: newId(), name: 't', app_id: app.id, fn_id: fn.id, type: 'http', source: '/hello', annotations: {}, created_at: now, updated_at: now,
  };

  beforeEach(async () => {
    location = await kind.fresh();
    store = await location.open();
    await store.insertApp(app);
    await store.insertFn(fn);
    await store.insertTrigger(trigger);
  });
  afterEach(async () => {
    await store.close();
    await location.dispose();
  });

  it('keeps a resolved fn and route until an app, fn or trigger is written, and never keeps a miss', async () => {
    const targets = new CallTargets(store);
    expect(targets.cachedFn(fn.id)).toBeUndefined();
    // With PostgreSQL this server's own writes come back as notifications a moment later, each dropping what was
    // kept: a resolution sticks once they are in.
    await vi.waitFor(async () => {
      const resolved = await targets.resolveFn(fn.id);
      expect(resolved.fn).toMatchObject({ id: fn.id });
      const route = await targets.resolveRoute('targets', '/hello', () => undefined);
      expect(route).toMatchObject({ needsKey: false, origin: { triggerId: trigger.id } });
      expect(targets.cachedFn(fn.id)).toBe(resolved);
      expect(targets.cachedRoute('targets', '/hello')).toBe(route);
    }, { timeout: 5000, interval: 20 });

    await store.updateTrigger({ ...trigger, annotations: { 'fnts.io/auth': 'reqired' }, updated_at: new Date().toISOString() });
    expect(targets.cachedFn(fn.id)).toBeUndefined();
    expect(targets.cachedRoute('targets', '/hello')).toBeUndefined();
    let checked = 0;
    // Any value but "public" needs a key (a typo fails closed), checked before the fn is looked up.
    expect((await targets.resolveRoute('targets', '/hello', () => checked++)).needsKey).toBe(true);
    expect(checked).toBe(1);

    await targets.resolveFn(fn.id);
    await store.updateFn({ ...fn, timeout: 5, updated_at: new Date().toISOString() });
    expect(targets.cachedFn(fn.id)).toBeUndefined();
    expect((await targets.resolveFn(fn.id)).fn.timeout).toBe(5);

    await expect(targets.resolveFn('01ABCDEFGHJKMNPQRSTVWXYZ00')).rejects.toMatchObject({ code: 'FNTS_ERR_FN_NOT_FOUND' });
    expect(targets.cachedFn('01ABCDEFGHJKMNPQRSTVWXYZ00')).toBeUndefined();
    await expect(targets.resolveRoute('targets', '/nope', () => undefined)).rejects.toMatchObject({ code: 'FNTS_ERR_TRIGGER_NOT_FOUND' });
    await store.deleteTrigger(trigger.id);
    expect(targets.cachedRoute('targets', '/hello')).toBeUndefined();
  });
});
