import { beforeEach, describe, expect, it } from 'vitest';
import { clockPast } from './support/clock.js';
import {
  ID,
  INVOKE_ENDPOINT,
  MSG,
  RFC3339_MS,
  UNKNOWN_ID,
  createApp,
  createFn,
  expectError,
  getFn,
  req,
  restartApiServer,
  useApiServer,
  type ErrorJson,
  type FnJson,
  type Json,
  type ListJson,
} from './support/api.js';

/** Fn API v2 for fns, through `inject` (CONTRACT §4). */

useApiServer();

describe('fns', () => {
  let appId: string;
  beforeEach(async () => {
    appId = (await createApp({ name: 'fnapp' })).id;
  });

  it('creates a fn with Fn\'s defaults, config always present and the invoke endpoint from the Host header', async () => {
    const res = await req('POST', '/v2/fns', { app_id: appId, name: 'hello', image: 'hello:0.0.1' }, { host: 'fn.example.test:8080' });
    expect(res.statusCode).toBe(200);
    const fn = res.json<FnJson>();
    expect(fn).toEqual({
      id: expect.stringMatching(ID),
      name: 'hello',
      app_id: appId,
      image: 'hello:0.0.1',
      memory: 128,
      timeout: 30,
      idle_timeout: 30,
      config: {},
      annotations: { [INVOKE_ENDPOINT]: `http://fn.example.test:8080/invoke/${fn.id}` },
      created_at: expect.stringMatching(RFC3339_MS),
      updated_at: expect.stringMatching(RFC3339_MS),
    });
    const got = (await req('GET', `/v2/fns/${fn.id}`, undefined, { host: 'other.test' })).json<FnJson>();
    expect(got.annotations).toEqual({ [INVOKE_ENDPOINT]: `http://other.test/invoke/${fn.id}` });
  });

  it('treats 0 as the default and keeps explicit values and config on create', async () => {
    const fn = await createFn({
      app_id: appId, name: 'custom', image: 'i', memory: 0, timeout: 0, idle_timeout: 0, config: { A: 'x' },
    });
    expect([fn.memory, fn.timeout, fn.idle_timeout]).toEqual([128, 30, 30]);
    const fn2 = await createFn({ app_id: appId, name: 'custom2', image: 'i', memory: 8192, timeout: 300, idle_timeout: 3600, config: { A: 'x' } });
    expect([fn2.memory, fn2.timeout, fn2.idle_timeout]).toEqual([8192, 300, 3600]);
    expect(fn2.config).toEqual({ A: 'x' });
  });

  it('copies the app\'s shape onto the fn', async () => {
    const shaped = await createApp({ name: 'armapp', shape: 'GENERIC_ARM' });
    expect((await createFn({ app_id: shaped.id, name: 'f', image: 'i' })).shape).toBe('GENERIC_ARM');
  });

  it('uses FNTS_PUBLIC_URL for the invoke endpoint when it is set', async () => {
    await restartApiServer({ FNTS_PUBLIC_URL: 'https://fn.example.com/' });
    const a = await createApp({ name: 'pub' });
    const fn = (await req('POST', '/v2/fns', { app_id: a.id, name: 'f', image: 'i' }, { host: 'ignored.test' })).json<FnJson>();
    expect(fn.annotations?.[INVOKE_ENDPOINT]).toBe(`https://fn.example.com/invoke/${fn.id}`);
    const listed = (await req('GET', `/v2/fns?app_id=${a.id}`)).json<ListJson<FnJson>>();
    expect(listed.items[0]?.annotations?.[INVOKE_ENDPOINT]).toBe(`https://fn.example.com/invoke/${fn.id}`);
  });

  it('validates a fn on create with Fn\'s messages', async () => {
    const base = { app_id: appId, name: 'f', image: 'i' };
    const cases: Array<[Json, number, string]> = [
      [{ ...base, id: UNKNOWN_ID }, 400, 'ID cannot be provided for Fn creation'],
      [{ name: 'f', image: 'i' }, 400, 'Missing AppID on Fn'],
      [{ app_id: appId, image: 'i' }, 400, 'Missing Fn name'],
      [{ ...base, name: 'n'.repeat(256) }, 400, 'Fn name must be 255 characters or less'],
      [{ ...base, name: 'a b' }, 400, 'name must be a valid string'],
      [{ ...base, name: 'a/b' }, 400, 'name must be a valid string'],
      [{ ...base, name: 'a?b' }, 400, 'name must be a valid string'],
      [{ ...base, name: 'é' }, 400, 'name must be a valid string'],
      [{ app_id: appId, name: 'f' }, 400, 'Missing image on Fn'],
      [{ ...base, image: '' }, 400, 'Missing image on Fn'],
      [{ ...base, timeout: 301 }, 400, MSG.timeout],
      [{ ...base, timeout: -1 }, 400, MSG.timeout],
      [{ ...base, idle_timeout: 3601 }, 400, MSG.idleTimeout],
      [{ ...base, idle_timeout: -1 }, 400, MSG.idleTimeout],
      [{ ...base, memory: 8193 }, 400, MSG.memory],
      [{ ...base, memory: -1 }, 400, MSG.memory],
      [{ ...base, app_id: UNKNOWN_ID }, 404, 'App not found'],
    ];
    for (const [body, status, message] of cases) {
      const res = await req('POST', '/v2/fns', body);
      expect({ body, status: res.statusCode, message: res.json<ErrorJson>().message }).toEqual({ body, status, message });
      expect(res.json<ErrorJson>().code).toMatch(/^FNTS_ERR_/);
    }
    expect((await req('GET', `/v2/fns?app_id=${appId}`)).json()).toEqual({ items: [] });
  });

  it('answers Invalid JSON for fn fields of the wrong JSON type', async () => {
    for (const extra of [{ memory: 1.5 }, { timeout: '10' }, { image: 5 }, { config: { A: 1 } }]) {
      const res = await req('POST', '/v2/fns', { app_id: appId, name: 'typed', image: 'i', ...extra });
      expect({ extra, status: res.statusCode, message: res.json<ErrorJson>().message }).toEqual({
        extra,
        status: 400,
        message: 'Invalid JSON',
      });
      expect(res.json<ErrorJson>().code).toBe('FNTS_ERR_API_INVALID_JSON');
    }
  });

  it('refuses a duplicate fn name in the same app with 409 but allows it in another app', async () => {
    await createFn({ app_id: appId, name: 'same', image: 'i' });
    expectError(await req('POST', '/v2/fns', { app_id: appId, name: 'same', image: 'j' }), 409, 'Fn with specified name already exists');
    const other = await createApp({ name: 'other' });
    expect((await createFn({ app_id: other.id, name: 'same', image: 'i' })).app_id).toBe(other.id);
  });

  it('gets a fn by id and answers 404 Fn not found for an unknown id', async () => {
    const fn = await createFn({ app_id: appId, name: 'f', image: 'i' });
    expect(await getFn(fn.id)).toEqual(fn);
    expect(expectError(await req('GET', `/v2/fns/${UNKNOWN_ID}`), 404, 'Fn not found').code).toBe('FNTS_ERR_FN_NOT_FOUND');
  });

  it('requires app_id to list fns and lists only that app\'s fns, by name, with the name filter', async () => {
    expectError(await req('GET', '/v2/fns'), 400, 'Missing AppID on Fn');
    expectError(await req('GET', `/v2/fns?app_id=${UNKNOWN_ID}`), 404, 'App not found');
    const other = await createApp({ name: 'other' });
    for (const name of ['c', 'a', 'b']) await createFn({ app_id: appId, name, image: 'i' });
    await createFn({ app_id: other.id, name: 'a', image: 'i' });
    const list = (await req('GET', `/v2/fns?app_id=${appId}`)).json<ListJson<FnJson>>();
    expect(list.items.map((f) => [f.name, f.app_id])).toEqual([['a', appId], ['b', appId], ['c', appId]]);
    expect(list.items[0]?.annotations?.[INVOKE_ENDPOINT]).toBe(`http://localhost:80/invoke/${list.items[0]?.id ?? ''}`);
    expect((await req('GET', `/v2/fns?app_id=${appId}&name=b`)).json<ListJson<FnJson>>().items.map((f) => f.name)).toEqual(['b']);
    const page1 = (await req('GET', `/v2/fns?app_id=${appId}&per_page=2`)).json<ListJson<FnJson>>();
    expect(page1.items.map((f) => f.name)).toEqual(['a', 'b']);
    const page2 = (await req('GET', `/v2/fns?app_id=${appId}&per_page=2&cursor=${page1.next_cursor ?? ''}`)).json();
    expect(page2).toEqual({ items: [expect.objectContaining({ name: 'c' })] });
  });

  it('merges a PUT: image, limits and config change, "" and null delete config keys, name and app_id are ignored', async () => {
    const fn = await createFn({ app_id: appId, name: 'f', image: 'i:1', config: { KEEP: 'k', DROP: 'd', NUL: 'n', SET: 'old' } });
    const other = await createApp({ name: 'other' });
    await clockPast(fn.updated_at);
    const res = await req('PUT', `/v2/fns/${fn.id}`, {
      image: 'i:2', memory: 256, timeout: 60, idle_timeout: 5, name: 'renamed', app_id: other.id,
      config: { DROP: '', NUL: null, SET: 'new', ADD: 'a' },
    });
    expect(res.statusCode).toBe(200);
    const updated = res.json<FnJson>();
    expect(updated).toEqual({
      ...fn,
      image: 'i:2',
      memory: 256,
      timeout: 60,
      idle_timeout: 5,
      config: { KEEP: 'k', SET: 'new', ADD: 'a' },
      // Unlike Fn (CONTRACT §4.1), the PUT response carries the invoke endpoint like every other answer.
      annotations: fn.annotations,
      updated_at: expect.stringMatching(RFC3339_MS),
    });
    expect(updated.updated_at > fn.updated_at).toBe(true);
    const got = await getFn(fn.id);
    expect(got).toEqual(updated);
    // 0 on update means "leave it".
    expect((await req('PUT', `/v2/fns/${fn.id}`, { memory: 0, timeout: 0 })).json<FnJson>().memory).toBe(256);
  });

  it('keeps updated_at when a fn PUT changes nothing', async () => {
    const fn = await createFn({ app_id: appId, name: 'f', image: 'i', config: { A: 'b' } });
    await clockPast(fn.updated_at);
    const res = await req('PUT', `/v2/fns/${fn.id}`, { image: 'i', config: { A: 'b' }, timeout: 30 });
    expect(res.statusCode).toBe(200);
    expect(res.json<FnJson>().updated_at).toBe(fn.updated_at);
  });

  it('sets max_containers and concurrency (fnts extensions) and clears them with null on PUT', async () => {
    const fn = await createFn({ app_id: appId, name: 'scaled', image: 'i', max_containers: 3, concurrency: 4 });
    expect(fn).toMatchObject({ max_containers: 3, concurrency: 4 });
    const cleared = await req('PUT', `/v2/fns/${fn.id}`, { max_containers: null, concurrency: 2 });
    expect(cleared.statusCode, cleared.body).toBe(200);
    const after = cleared.json<FnJson>();
    expect(after).not.toHaveProperty('max_containers');
    expect(after.concurrency).toBe(2);
    expectError(await req('PUT', `/v2/fns/${fn.id}`, { concurrency: 5000 }), 400, 'concurrency value is out of range, must be between 1 and 1000');
  });

  it('re-checks ranges on PUT and changes nothing when one is out of range', async () => {
    const fn = await createFn({ app_id: appId, name: 'f', image: 'i' });
    const cases: Array<[Json, string]> = [
      [{ timeout: 301, image: 'changed' }, MSG.timeout],
      [{ idle_timeout: 3601 }, MSG.idleTimeout],
      [{ memory: 8193 }, MSG.memory],
      [{ memory: -1 }, MSG.memory],
    ];
    for (const [body, message] of cases) expectError(await req('PUT', `/v2/fns/${fn.id}`, body), 400, message);
    expect(await getFn(fn.id)).toEqual(fn);
  });

  it('refuses a PUT whose body id differs from the path and changes neither fn', async () => {
    const a = await createFn({ app_id: appId, name: 'a', image: 'i', config: { X: '1' } });
    const b = await createFn({ app_id: appId, name: 'b', image: 'i', config: { X: '1' } });
    const res = await req('PUT', `/v2/fns/${a.id}`, { id: b.id, image: 'changed', config: { X: '2' } });
    expect(expectError(res, 400, 'Fn ID in path does not match that in body').code).toBe('FNTS_ERR_API_ID_MISMATCH');
    expect(await getFn(a.id)).toEqual(a);
    expect(await getFn(b.id)).toEqual(b);
  });

  it('answers 404 on PUT and DELETE of an unknown fn', async () => {
    expectError(await req('PUT', `/v2/fns/${UNKNOWN_ID}`, { image: 'i' }), 404, 'Fn not found');
    expectError(await req('DELETE', `/v2/fns/${UNKNOWN_ID}`), 404, 'Fn not found');
  });

  it('deletes a fn with 204, then answers 404', async () => {
    const fn = await createFn({ app_id: appId, name: 'f', image: 'i' });
    const res = await req('DELETE', `/v2/fns/${fn.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expectError(await req('GET', `/v2/fns/${fn.id}`), 404, 'Fn not found');
  });

  it('deletes an app\'s fns with the app', async () => {
    const f1 = await createFn({ app_id: appId, name: 'f1', image: 'i' });
    const f2 = await createFn({ app_id: appId, name: 'f2', image: 'i' });
    const other = await createApp({ name: 'other' });
    const survivor = await createFn({ app_id: other.id, name: 'f1', image: 'i' });
    expect((await req('DELETE', `/v2/apps/${appId}`)).statusCode).toBe(204);
    expectError(await req('GET', `/v2/fns/${f1.id}`), 404, 'Fn not found');
    expectError(await req('GET', `/v2/fns/${f2.id}`), 404, 'Fn not found');
    expect(await getFn(survivor.id)).toEqual(survivor);
    // A new app with the old name starts empty.
    const again = await createApp({ name: 'fnapp' });
    expect((await req('GET', `/v2/fns?app_id=${again.id}`)).json()).toEqual({ items: [] });
  });

  it('answers 404 Fn not found when invoking an unknown fn', async () => {
    expectError(await req('POST', `/invoke/${UNKNOWN_ID}`, { a: 1 }), 404, 'Fn not found');
  });
});
