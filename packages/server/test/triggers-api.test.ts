import type { LightMyRequestResponse } from 'fastify';
import { beforeEach, describe, expect, it } from 'vitest';
import { clockPast } from './support/clock.js';
import {
  HTTP_ENDPOINT,
  ID,
  MSG,
  RFC3339_MS,
  UNKNOWN_ID,
  createApp,
  createFn,
  createTrigger,
  expectError,
  getTrigger,
  req,
  restartApiServer,
  useApiServer,
  type ErrorJson,
  type Json,
  type ListJson,
  type TriggerJson,
} from './support/api.js';

/** Fn API v2 for triggers, and the `/t/{app}/{source}` and `/invoke` routing that needs no container (CONTRACT §4). */

useApiServer();

/** An image no Docker engine has: a call that gets past routing and the request checks fails on it with 404. */
const MISSING_IMAGE = 'fnts-test-no-such-image:0.0.0';

/** The call got past routing and the request checks: it has an id and failed only on the fn's image. */
function expectReachedFn(res: LightMyRequestResponse, label: string): void {
  expect({ label, status: res.statusCode, code: res.json<ErrorJson>().code }).toEqual({ label, status: 404, code: 'FNTS_ERR_IMAGE_NOT_FOUND' });
  expect(res.headers['fn-call-id'], label).toMatch(ID);
}

let appId: string;
let fnId: string;
beforeEach(async () => {
  appId = (await createApp({ name: 'tapp' })).id;
  fnId = (await createFn({ app_id: appId, name: 'f', image: MISSING_IMAGE })).id;
});

const list = async (query: string): Promise<ListJson<TriggerJson>> => {
  const res = await req('GET', `/v2/triggers?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<ListJson<TriggerJson>>();
};
const names = (page: ListJson<TriggerJson>) => page.items.map((t) => t.name);

describe('creating triggers', () => {
  it('creates an http trigger with 200 and Fn\'s JSON shape, with the endpoint built from the request Host', async () => {
    const res = await req(
      'POST',
      '/v2/triggers',
      { name: 'hello', app_id: appId, fn_id: fnId, type: 'http', source: '/hello', annotations: { 'example.com/k': [1] } },
      { host: 'fn.example.test:8080' },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const t = res.json<TriggerJson>();
    expect(t).toEqual({
      id: expect.stringMatching(ID),
      name: 'hello',
      app_id: appId,
      fn_id: fnId,
      type: 'http',
      source: '/hello',
      annotations: { 'example.com/k': [1], [HTTP_ENDPOINT]: 'http://fn.example.test:8080/t/tapp/hello' },
      created_at: expect.stringMatching(RFC3339_MS),
      updated_at: expect.stringMatching(RFC3339_MS),
    });
    expect(t.updated_at).toBe(t.created_at);
  });

  it('validates a trigger on create with Fn\'s messages, creating nothing', async () => {
    const base: Json = { name: 't', app_id: appId, fn_id: fnId, type: 'http', source: '/t' };
    const without = (field: string): Json => Object.fromEntries(Object.entries(base).filter(([k]) => k !== field));
    const otherApp = await createApp({ name: 'other' });
    const foreignFn = await createFn({ app_id: otherApp.id, name: 'g', image: 'i' });
    const now = new Date().toISOString();
    const cases: Array<[Json, number, string]> = [
      [{ ...base, id: UNKNOWN_ID }, 400, 'ID cannot be provided for Trigger creation'],
      [{ ...base, created_at: now }, 400, 'Trigger Created At Provided for Create'],
      // (sic): Fn's text for updated_at names the ID.
      [{ ...base, updated_at: now }, 400, 'Trigger ID Provided for Create'],
      [without('app_id'), 400, 'Missing App ID on Trigger'],
      [{ ...base, app_id: '' }, 400, 'Missing App ID on Trigger'],
      [without('name'), 400, 'Missing name on Trigger'],
      [{ ...base, name: '' }, 400, 'Missing name on Trigger'],
      [{ ...base, name: 'n'.repeat(256) }, 400, 'Trigger name must be 255 characters or less'],
      [{ ...base, name: 'has space' }, 400, 'Invalid name for Trigger'],
      [{ ...base, name: 'a/b' }, 400, 'Invalid name for Trigger'],
      [{ ...base, name: 'a.b' }, 400, 'Invalid name for Trigger'],
      [without('fn_id'), 400, 'Missing Fn ID on Trigger'],
      [without('type'), 400, 'Trigger Type Not Supported'],
      [{ ...base, type: 'HTTP' }, 400, 'Trigger Type Not Supported'],
      [{ ...base, type: 'cron' }, 400, 'Trigger Type Not Supported'],
      [without('source'), 400, 'Missing Trigger Source'],
      [{ ...base, source: '' }, 400, 'Missing Trigger Source'],
      [{ ...base, source: 'hello' }, 400, "Missing Trigger Source Prefix '/'"],
      [{ ...base, annotations: { 'a b': 1 } }, 400, MSG.annotationKey],
      [{ ...base, annotations: { k: '' } }, 400, MSG.annotationValue],
      [{ ...base, annotations: { k: null } }, 400, MSG.annotationValue],
      [{ ...base, app_id: UNKNOWN_ID }, 404, 'App not found'],
      [{ ...base, fn_id: UNKNOWN_ID }, 404, 'Fn not found'],
      [{ ...base, fn_id: foreignFn.id }, 400, 'Invalid Fn ID - not owned by specified app'],
    ];
    for (const [body, status, message] of cases) {
      const res = await req('POST', '/v2/triggers', body);
      expect({ body, status: res.statusCode, message: res.json<ErrorJson>().message }).toEqual({ body, status, message });
      expect(res.json<ErrorJson>().code).toMatch(/^FNTS_ERR_[A-Z_]+$/);
    }
    expect(await list(`app_id=${appId}`)).toEqual({ items: [] });
    expect(await list(`app_id=${otherApp.id}`)).toEqual({ items: [] });
  });

  it('accepts Unicode letters, digits, _ and - in names, up to 255 characters', async () => {
    expect((await createTrigger({ name: 'Ünï_cödé-9', app_id: appId, fn_id: fnId, type: 'http', source: '/u' })).name).toBe('Ünï_cödé-9');
    const long = 'n'.repeat(255);
    expect((await createTrigger({ name: long, app_id: appId, fn_id: fnId, type: 'http', source: '/long' })).name).toBe(long);
  });

  it('answers Invalid JSON for trigger fields of the wrong JSON type', async () => {
    for (const extra of [{ name: 5 }, { source: ['/x'] }, { annotations: 'k=v' }, { type: true }]) {
      const res = await req('POST', '/v2/triggers', { name: 't', app_id: appId, fn_id: fnId, type: 'http', source: '/t', ...extra });
      expect({ extra, status: res.statusCode, message: res.json<ErrorJson>().message }).toEqual({ extra, status: 400, message: 'Invalid JSON' });
      expect(res.json<ErrorJson>().code).toBe('FNTS_ERR_API_INVALID_JSON');
    }
  });

  it('refuses a second trigger with the same type and source in the app with 409, whatever its fn and name', async () => {
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    await createTrigger({ name: 'first', app_id: appId, fn_id: fnId, type: 'http', source: '/same' });
    for (const body of [
      { name: 'second', app_id: appId, fn_id: fnId, type: 'http', source: '/same' },
      { name: 'second', app_id: appId, fn_id: g.id, type: 'http', source: '/same' },
    ]) {
      const res = await req('POST', '/v2/triggers', body);
      expectError(res, 409, 'Trigger with the same type and source exists on this app', 'FNTS_ERR_API_CONFLICT');
    }
    // Sources are matched exactly: a trailing slash makes another source, and another app may use the same one.
    await createTrigger({ name: 'slash', app_id: appId, fn_id: fnId, type: 'http', source: '/same/' });
    const other = await createApp({ name: 'other' });
    const otherFn = await createFn({ app_id: other.id, name: 'f', image: 'i' });
    await createTrigger({ name: 'first', app_id: other.id, fn_id: otherFn.id, type: 'http', source: '/same' });
    expect(names(await list(`app_id=${appId}`))).toEqual(['first', 'slash']);
  });

  it('refuses a second trigger with the same name on the same fn with 409, but allows the name on another fn', async () => {
    await createTrigger({ name: 'dup', app_id: appId, fn_id: fnId, type: 'http', source: '/one' });
    const res = await req('POST', '/v2/triggers', { name: 'dup', app_id: appId, fn_id: fnId, type: 'http', source: '/two' });
    expectError(res, 409, 'Trigger already exists', 'FNTS_ERR_API_CONFLICT');
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    expect((await createTrigger({ name: 'dup', app_id: appId, fn_id: g.id, type: 'http', source: '/two' })).fn_id).toBe(g.id);
  });
});

describe('reading triggers', () => {
  it('gets a trigger by id with the endpoint for the Host of that request, and answers 404 for an unknown id', async () => {
    const t = await createTrigger({ name: 'hello', app_id: appId, fn_id: fnId, type: 'http', source: '/hello' });
    // inject's default Host.
    expect(t.annotations).toEqual({ [HTTP_ENDPOINT]: 'http://localhost:80/t/tapp/hello' });
    const res = await req('GET', `/v2/triggers/${t.id}`, undefined, { host: 'api.example.test' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ...t, annotations: { [HTTP_ENDPOINT]: 'http://api.example.test/t/tapp/hello' } });
    expectError(await req('GET', `/v2/triggers/${UNKNOWN_ID}`), 404, 'Trigger not found', 'FNTS_ERR_TRIGGER_NOT_FOUND');
  });

  it('builds the endpoint from the source: "/" gives the app\'s root, nested paths are kept', async () => {
    const root = await createTrigger({ name: 'root', app_id: appId, fn_id: fnId, type: 'http', source: '/' });
    const nested = await createTrigger({ name: 'nested', app_id: appId, fn_id: fnId, type: 'http', source: '/a/b/c' });
    expect(root.annotations?.[HTTP_ENDPOINT]).toBe('http://localhost:80/t/tapp/');
    expect(nested.annotations?.[HTTP_ENDPOINT]).toBe('http://localhost:80/t/tapp/a/b/c');
  });

  it('uses FNTS_PUBLIC_URL for the endpoint on create, get, list and update when it is set', async () => {
    await restartApiServer({ FNTS_PUBLIC_URL: 'https://fn.example.com/' });
    const a = await createApp({ name: 'pub' });
    const f = await createFn({ app_id: a.id, name: 'f', image: 'i' });
    const host = { host: 'ignored.test' };
    const expected = 'https://fn.example.com/t/pub/hello';
    const created = await req('POST', '/v2/triggers', { name: 't', app_id: a.id, fn_id: f.id, type: 'http', source: '/hello' }, host);
    const t = created.json<TriggerJson>();
    expect(t.annotations?.[HTTP_ENDPOINT]).toBe(expected);
    expect((await req('GET', `/v2/triggers/${t.id}`, undefined, host)).json<TriggerJson>().annotations?.[HTTP_ENDPOINT]).toBe(expected);
    const listed = (await req('GET', `/v2/triggers?app_id=${a.id}`, undefined, host)).json<ListJson<TriggerJson>>();
    expect(listed.items.map((i) => i.annotations?.[HTTP_ENDPOINT])).toEqual([expected]);
    const put = await req('PUT', `/v2/triggers/${t.id}`, { source: '/moved' }, host);
    expect(put.json<TriggerJson>().annotations?.[HTTP_ENDPOINT]).toBe('https://fn.example.com/t/pub/moved');
  });

  it('requires app_id to list triggers and answers 404 for an unknown app', async () => {
    expectError(await req('GET', '/v2/triggers'), 400, 'Missing App ID on Trigger');
    expectError(await req('GET', '/v2/triggers?app_id='), 400, 'Missing App ID on Trigger');
    expectError(await req('GET', `/v2/triggers?app_id=${UNKNOWN_ID}`), 404, 'App not found');
  });

  it('lists only the app\'s triggers, by name, with the endpoint, filtered by fn_id and exactly by name', async () => {
    expect(await list(`app_id=${appId}`)).toEqual({ items: [] });
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    const other = await createApp({ name: 'other' });
    const otherFn = await createFn({ app_id: other.id, name: 'f', image: 'i' });
    await createTrigger({ name: 'charlie', app_id: appId, fn_id: fnId, type: 'http', source: '/c' });
    await createTrigger({ name: 'alpha', app_id: appId, fn_id: g.id, type: 'http', source: '/a' });
    await createTrigger({ name: 'bravo', app_id: appId, fn_id: fnId, type: 'http', source: '/b' });
    await createTrigger({ name: 'alphabet', app_id: other.id, fn_id: otherFn.id, type: 'http', source: '/a' });

    const all = await list(`app_id=${appId}`);
    expect(all.items.map((t) => [t.name, t.app_id, t.source])).toEqual([
      ['alpha', appId, '/a'],
      ['bravo', appId, '/b'],
      ['charlie', appId, '/c'],
    ]);
    expect(all.next_cursor).toBeUndefined();
    expect(all.items.map((t) => t.annotations?.[HTTP_ENDPOINT])).toEqual([
      'http://localhost:80/t/tapp/a',
      'http://localhost:80/t/tapp/b',
      'http://localhost:80/t/tapp/c',
    ]);
    expect(names(await list(`app_id=${appId}&fn_id=${fnId}`))).toEqual(['bravo', 'charlie']);
    expect(names(await list(`app_id=${appId}&fn_id=${g.id}`))).toEqual(['alpha']);
    // A fn of another app matches nothing in this one.
    expect(await list(`app_id=${appId}&fn_id=${otherFn.id}`)).toEqual({ items: [] });
    expect(names(await list(`app_id=${appId}&name=bravo`))).toEqual(['bravo']);
    expect(await list(`app_id=${appId}&name=brav`)).toEqual({ items: [] });
    expect(names(await list(`app_id=${appId}&fn_id=${fnId}&name=charlie`))).toEqual(['charlie']);
    expect(await list(`app_id=${appId}&fn_id=${g.id}&name=charlie`)).toEqual({ items: [] });
  });

  it('pages through triggers with per_page and next_cursor, which is present only on a full page', async () => {
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    for (const [name, fn] of [['e', fnId], ['c', g.id], ['a', fnId], ['d', g.id], ['b', fnId]] as const) {
      await createTrigger({ name, app_id: appId, fn_id: fn, type: 'http', source: `/${name}` });
    }
    const pages: string[][] = [];
    let url = `app_id=${appId}&per_page=2`;
    for (;;) {
      const page = await list(url);
      pages.push(names(page));
      if (page.next_cursor === undefined) break;
      // Opaque here: trigger names are unique per fn only, so the cursor may need more than the last name.
      expect(page.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      url = `app_id=${appId}&per_page=2&cursor=${encodeURIComponent(page.next_cursor)}`;
    }
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);

    // Paging composes with the fn filter; an exact multiple ends on an empty page.
    const first = await list(`app_id=${appId}&fn_id=${fnId}&per_page=3`);
    expect(names(first)).toEqual(['a', 'b', 'e']);
    expect(first.next_cursor).toBeDefined();
    expect(await list(`app_id=${appId}&fn_id=${fnId}&per_page=3&cursor=${encodeURIComponent(first.next_cursor ?? '')}`)).toEqual({ items: [] });
    expectError(await req('GET', `/v2/triggers?app_id=${appId}&cursor=!!!`), 400, /cursor/);
  });

  it('lists every trigger across pages when triggers of different fns share a name', async () => {
    // Names are unique per (app, fn), so one app may hold several triggers named alike; a cursor made of the
    // name alone skips the ones after a page boundary.
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    const h = await createFn({ app_id: appId, name: 'h', image: 'i' });
    for (const [fn, source] of [[fnId, '/f'], [g.id, '/g'], [h.id, '/h']] as const) {
      await createTrigger({ name: 'same', app_id: appId, fn_id: fn, type: 'http', source });
    }
    const seen: string[] = [];
    let url = `app_id=${appId}&per_page=1`;
    for (let i = 0; i < 10; i++) {
      const page = await list(url);
      seen.push(...page.items.map((t) => t.source));
      if (page.next_cursor === undefined) break;
      url = `app_id=${appId}&per_page=1&cursor=${encodeURIComponent(page.next_cursor)}`;
    }
    expect(seen.sort()).toEqual(['/f', '/g', '/h']);
  });
});

describe('updating triggers', () => {
  let t: TriggerJson;
  beforeEach(async () => {
    t = await createTrigger({
      name: 'orig', app_id: appId, fn_id: fnId, type: 'http', source: '/orig', annotations: { keep: 'k', empty: 'e', nul: 'n' },
    });
  });

  it('merges a PUT: name, source, fn_id and annotations change, "" and null delete annotation keys', async () => {
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    await clockPast(t.updated_at);
    const res = await req('PUT', `/v2/triggers/${t.id}`, {
      name: 'renamed', source: '/renamed', fn_id: g.id, annotations: { empty: '', nul: null, added: { x: 1 } },
    });
    expect(res.statusCode, res.body).toBe(200);
    const updated = res.json<TriggerJson>();
    expect(updated).toEqual({
      ...t,
      name: 'renamed',
      source: '/renamed',
      fn_id: g.id,
      annotations: { keep: 'k', added: { x: 1 }, [HTTP_ENDPOINT]: 'http://localhost:80/t/tapp/renamed' },
      updated_at: expect.stringMatching(RFC3339_MS),
    });
    expect(updated.updated_at > t.updated_at).toBe(true);
    expect(await getTrigger(t.id)).toEqual(updated);
    expect(names(await list(`app_id=${appId}&fn_id=${g.id}`))).toEqual(['renamed']);
    expect(await list(`app_id=${appId}&fn_id=${fnId}`)).toEqual({ items: [] });
  });

  it('leaves out fields absent or empty in the body, ignores type and app_id, and keeps updated_at when nothing changed', async () => {
    const other = await createApp({ name: 'other' });
    await clockPast(t.updated_at);
    for (const body of [
      {},
      { id: t.id },
      { name: '', source: '', fn_id: '' },
      { name: 'orig', source: '/orig', fn_id: fnId, annotations: { keep: 'k' } },
      { type: 'stream' },
      { app_id: other.id },
      { annotations: { missing: '' } },
    ]) {
      const res = await req('PUT', `/v2/triggers/${t.id}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(200);
      expect(res.json(), JSON.stringify(body)).toEqual(t);
    }
    expect(await getTrigger(t.id)).toEqual(t);
    expect(await list(`app_id=${other.id}`)).toEqual({ items: [] });
  });

  it('validates the merged trigger and changes nothing when a field is invalid', async () => {
    const cases: Array<[Json, string]> = [
      [{ name: 'has space', source: '/changed' }, 'Invalid name for Trigger'],
      [{ name: 'n'.repeat(256) }, 'Trigger name must be 255 characters or less'],
      [{ source: 'noslash', name: 'changed' }, "Missing Trigger Source Prefix '/'"],
      [{ annotations: { 'a b': 'v' } }, MSG.annotationKey],
      [{ annotations: { k: true } }, MSG.annotationValue],
    ];
    for (const [body, message] of cases) expectError(await req('PUT', `/v2/triggers/${t.id}`, body), 400, message);
    expect(await getTrigger(t.id)).toEqual(t);
  });

  it('refuses a PUT whose body id differs from the path and changes neither trigger', async () => {
    const other = await createTrigger({ name: 'other', app_id: appId, fn_id: fnId, type: 'http', source: '/other' });
    const res = await req('PUT', `/v2/triggers/${t.id}`, { id: other.id, name: 'changed', source: '/changed', annotations: { keep: 'x' } });
    expectError(res, 400, 'ID in path does not match ID in body', 'FNTS_ERR_API_ID_MISMATCH');
    expect(await getTrigger(t.id)).toEqual(t);
    expect(await getTrigger(other.id)).toEqual(other);
  });

  it('refuses with 409 a source another trigger of the app already has (Fn does not re-check it), changing nothing', async () => {
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    await createTrigger({ name: 'taken', app_id: appId, fn_id: g.id, type: 'http', source: '/taken' });
    const res = await req('PUT', `/v2/triggers/${t.id}`, { source: '/taken', name: 'changed' });
    expectError(res, 409, 'Trigger with the same type and source exists on this app', 'FNTS_ERR_API_CONFLICT');
    expect(await getTrigger(t.id)).toEqual(t);
    // Its own source is not a conflict.
    expect((await req('PUT', `/v2/triggers/${t.id}`, { source: '/orig' })).statusCode).toBe(200);
  });

  it('refuses with 409 a name another trigger of the same fn has, also when moving to another fn', async () => {
    await createTrigger({ name: 'taken', app_id: appId, fn_id: fnId, type: 'http', source: '/taken' });
    expectError(await req('PUT', `/v2/triggers/${t.id}`, { name: 'taken' }), 409, 'Trigger already exists');
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    await createTrigger({ name: 'orig', app_id: appId, fn_id: g.id, type: 'http', source: '/g' });
    expectError(await req('PUT', `/v2/triggers/${t.id}`, { fn_id: g.id }), 409, 'Trigger already exists');
    expect(await getTrigger(t.id)).toEqual(t);
  });

  it('refuses to move a trigger to a fn of another app (400) or to an unknown fn (404), changing nothing', async () => {
    const other = await createApp({ name: 'other' });
    const foreign = await createFn({ app_id: other.id, name: 'f', image: 'i' });
    expectError(await req('PUT', `/v2/triggers/${t.id}`, { fn_id: foreign.id }), 400, 'Invalid Fn ID - not owned by specified app');
    expectError(await req('PUT', `/v2/triggers/${t.id}`, { fn_id: UNKNOWN_ID, name: 'changed' }), 404, 'Fn not found');
    expect(await getTrigger(t.id)).toEqual(t);
  });

  it('answers 404 on PUT and DELETE of an unknown trigger', async () => {
    expectError(await req('PUT', `/v2/triggers/${UNKNOWN_ID}`, { name: 'x' }), 404, 'Trigger not found');
    expectError(await req('DELETE', `/v2/triggers/${UNKNOWN_ID}`), 404, 'Trigger not found', 'FNTS_ERR_TRIGGER_NOT_FOUND');
  });
});

describe('deleting triggers', () => {
  it('deletes a trigger with 204 and an empty body, then answers 404', async () => {
    const t = await createTrigger({ name: 'gone', app_id: appId, fn_id: fnId, type: 'http', source: '/gone' });
    const kept = await createTrigger({ name: 'kept', app_id: appId, fn_id: fnId, type: 'http', source: '/kept' });
    const res = await req('DELETE', `/v2/triggers/${t.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expectError(await req('GET', `/v2/triggers/${t.id}`), 404, 'Trigger not found');
    expectError(await req('DELETE', `/v2/triggers/${t.id}`), 404, 'Trigger not found');
    expect(await list(`app_id=${appId}`)).toEqual({ items: [kept] });
    // The source is free again.
    await createTrigger({ name: 'again', app_id: appId, fn_id: fnId, type: 'http', source: '/gone' });
  });

  it('deletes a fn\'s triggers with the fn, and only those', async () => {
    const g = await createFn({ app_id: appId, name: 'g', image: 'i' });
    const t1 = await createTrigger({ name: 't1', app_id: appId, fn_id: fnId, type: 'http', source: '/1' });
    const t2 = await createTrigger({ name: 't2', app_id: appId, fn_id: fnId, type: 'http', source: '/2' });
    const survivor = await createTrigger({ name: 't3', app_id: appId, fn_id: g.id, type: 'http', source: '/3' });
    expect((await req('DELETE', `/v2/fns/${fnId}`)).statusCode).toBe(204);
    expectError(await req('GET', `/v2/triggers/${t1.id}`), 404, 'Trigger not found');
    expectError(await req('GET', `/v2/triggers/${t2.id}`), 404, 'Trigger not found');
    expect(await list(`app_id=${appId}`)).toEqual({ items: [survivor] });
    expectError(await req('GET', '/t/tapp/1'), 404, 'Trigger not found');
  });

  it('deletes an app\'s triggers with the app', async () => {
    const t = await createTrigger({ name: 't', app_id: appId, fn_id: fnId, type: 'http', source: '/t' });
    const other = await createApp({ name: 'other' });
    const otherFn = await createFn({ app_id: other.id, name: 'f', image: 'i' });
    const survivor = await createTrigger({ name: 't', app_id: other.id, fn_id: otherFn.id, type: 'http', source: '/t' });
    expect((await req('DELETE', `/v2/apps/${appId}`)).statusCode).toBe(204);
    expectError(await req('GET', `/v2/triggers/${t.id}`), 404, 'Trigger not found');
    expectError(await req('GET', `/v2/triggers?app_id=${appId}`), 404, 'App not found');
    expect(await getTrigger(survivor.id)).toEqual(survivor);
    // A new app with the old name starts without triggers.
    const again = await createApp({ name: 'tapp' });
    expect(await list(`app_id=${again.id}`)).toEqual({ items: [] });
    expectError(await req('GET', '/t/tapp/t'), 404, 'Trigger not found');
  });
});

describe('trigger routes', () => {
  it('answers a wrong method on a trigger route with 405 and an unknown sub-path with 404', async () => {
    expectError(await req('PATCH', `/v2/triggers/${UNKNOWN_ID}`), 405, `Method not allowed: PATCH /v2/triggers/${UNKNOWN_ID}`);
    expectError(await req('POST', `/v2/triggers/${UNKNOWN_ID}`, {}), 405, `Method not allowed: POST /v2/triggers/${UNKNOWN_ID}`);
    expectError(await req('DELETE', '/v2/triggers?app_id=x'), 405, 'Method not allowed: DELETE /v2/triggers');
    expectError(await req('PUT', '/v2/triggers', {}), 405, 'Method not allowed: PUT /v2/triggers');
    expectError(await req('GET', `/v2/triggers/${UNKNOWN_ID}/more`), 404, `Path not found: GET /v2/triggers/${UNKNOWN_ID}/more`);
  });
});

describe('/t/{app}/{source} routing (CONTRACT §4.7)', () => {
  it('answers 404 App not found for an unknown app, with or without a source', async () => {
    for (const url of ['/t/nope', '/t/nope/', '/t/nope/hello']) {
      const res = await req('GET', url);
      expectError(res, 404, 'App not found', 'FNTS_ERR_APP_NOT_FOUND');
      expect(res.headers['fn-call-id']).toBeUndefined();
    }
  });

  it('answers 404 Trigger not found for a source no trigger has, for every method', async () => {
    await createTrigger({ name: 'hello', app_id: appId, fn_id: fnId, type: 'http', source: '/hello' });
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      const res = await req(method, '/t/tapp/missing');
      expectError(res, 404, 'Trigger not found', 'FNTS_ERR_TRIGGER_NOT_FOUND');
      expect(res.headers['fn-call-id']).toBeUndefined();
    }
    // Matching is exact: case and trailing slashes count.
    expectError(await req('GET', '/t/tapp/hello/'), 404, 'Trigger not found');
    expectError(await req('GET', '/t/tapp/Hello'), 404, 'Trigger not found');
    expectError(await req('GET', '/t/tapp/hello/more'), 404, 'Trigger not found');
    expectError(await req('GET', '/t/tapp'), 404, 'Trigger not found');
  });

  it('resolves a source whatever the method, ignoring the query and decoding percent-escapes', async () => {
    await createTrigger({ name: 'hello', app_id: appId, fn_id: fnId, type: 'http', source: '/hello' });
    await createTrigger({ name: 'spaced', app_id: appId, fn_id: fnId, type: 'http', source: '/a b' });
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const) expectReachedFn(await req(method, '/t/tapp/hello'), method);
    expectReachedFn(await req('GET', '/t/tapp/hello?x=1&y=/z'), 'query');
    expectReachedFn(await req('GET', '/t/tapp/a%20b'), 'percent-escape');
  });

  it('maps both /t/app and /t/app/ to the source "/"', async () => {
    expectError(await req('GET', '/t/tapp/'), 404, 'Trigger not found');
    await createTrigger({ name: 'root', app_id: appId, fn_id: fnId, type: 'http', source: '/' });
    expectReachedFn(await req('GET', '/t/tapp'), '/t/tapp');
    expectReachedFn(await req('GET', '/t/tapp/'), '/t/tapp/');
    expectReachedFn(await req('POST', '/t/tapp?x=1', 'body'), '/t/tapp?x=1');
  });

  it('answers a malformed percent-escape in the source with a 400 API error', async () => {
    const res = await req('GET', '/t/tapp/%E0%A4%A');
    expectError(res, 400, /percent-encoding|not a valid url/);
  });
});

describe('request size limit on calls', () => {
  beforeEach(async () => {
    await restartApiServer({ FNTS_MAX_REQUEST_BYTES: '2048' });
    appId = (await createApp({ name: 'tapp' })).id;
    fnId = (await createFn({ app_id: appId, name: 'f', image: MISSING_IMAGE })).id;
    await createTrigger({ name: 'big', app_id: appId, fn_id: fnId, type: 'http', source: '/big' });
  });

  it('answers 413 to an invoke whose Content-Length is over FNTS_MAX_REQUEST_BYTES, before any container is needed', async () => {
    const res = await req('POST', `/invoke/${fnId}`, 'x'.repeat(2049), { 'content-type': 'text/plain' });
    expectError(res, 413, /2049 > max 2048/, 'FNTS_ERR_API_PAYLOAD_TOO_LARGE');
    // At the limit the call goes on, to fail on the image only then.
    expectReachedFn(await req('POST', `/invoke/${fnId}`, 'x'.repeat(2048), { 'content-type': 'text/plain' }), 'invoke at the limit');
  });

  it('answers 413 to a trigger call whose Content-Length is over the limit, before any container is needed', async () => {
    expectError(await req('PUT', '/t/tapp/big', 'x'.repeat(4096)), 413, /4096 > max 2048/, 'FNTS_ERR_API_PAYLOAD_TOO_LARGE');
    expectReachedFn(await req('PUT', '/t/tapp/big', 'x'.repeat(2048)), 'trigger at the limit');
  });
});
