import { describe, expect, it } from 'vitest';
import { clockPast } from './support/clock.js';
import { FNTS_VERSION } from '../src/version.js';
import {
  ID,
  INVOKE_ENDPOINT,
  MSG,
  RFC3339_MS,
  UNKNOWN_ID,
  createApp,
  createFn,
  expectError,
  getApp,
  getFn,
  req,
  useApiServer,
  type AppJson,
  type ErrorJson,
  type Json,
  type ListJson,
} from './support/api.js';

/** Fn API v2 for apps, annotations and the service routes, through `inject` (CONTRACT §4). */

useApiServer();

describe('service routes', () => {
  it('answers the ping on GET / with Fn\'s body', async () => {
    const res = await req('GET', '/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({ hello: 'world!', goto: 'https://github.com/fnproject/fn' });
  });

  it('reports the server version on GET /version', async () => {
    const res = await req('GET', '/version');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ version: FNTS_VERSION });
  });

  it('answers an unknown path with 404 naming the method and the path without its query', async () => {
    const body = expectError(await req('GET', '/nope?x=1'), 404, 'Path not found: GET /nope');
    expect(body.code).toBe('FNTS_ERR_API_PATH_NOT_FOUND');
    expectError(await req('POST', '/v2/nothing/here'), 404, 'Path not found: POST /v2/nothing/here');
  });

  it('answers a known path with the wrong method with 405 Method not allowed', async () => {
    const body = expectError(await req('DELETE', '/v2/apps'), 405, 'Method not allowed: DELETE /v2/apps');
    expect(body.code).toBe('FNTS_ERR_API_METHOD_NOT_ALLOWED');
  });

  it('answers a method other than POST on /invoke/{fn_id} with 405 (CONTRACT §4.7)', async () => {
    expectError(await req('GET', `/invoke/${UNKNOWN_ID}`), 405, `Method not allowed: GET /invoke/${UNKNOWN_ID}`);
  });
  it('answers the call records and call logs of an unknown fn with 404', async () => {
    for (const url of [`/v2/fns/${UNKNOWN_ID}/calls`, `/v2/fns/${UNKNOWN_ID}/calls/${UNKNOWN_ID}`, `/v2/fns/${UNKNOWN_ID}/calls/${UNKNOWN_ID}/log`]) {
      expectError(await req('GET', url), 404, 'Fn not found', 'FNTS_ERR_FN_NOT_FOUND');
    }
    expectError(await req('POST', `/v2/fns/${UNKNOWN_ID}/calls`, {}), 405, `Method not allowed: POST /v2/fns/${UNKNOWN_ID}/calls`);
  });

  it('serves an OpenAPI 3 document listing apps, fns and triggers with their request body schemas', async () => {
    const res = await req('GET', '/v2/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    interface Operation { requestBody?: { content: Record<string, { schema: { type: string; properties: Json } }> } }
    const doc = res.json<{ openapi: string; info: { version: string }; paths: Record<string, Record<string, Operation>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe(FNTS_VERSION);
    const bodyFields = (path: string, method: string) => {
      const schema = doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
      expect(schema?.type, `${method} ${path}`).toBe('object');
      return Object.keys(schema?.properties ?? {});
    };
    const resources = [
      ['/v2/apps', '/v2/apps/{app_id}', ['name', 'config', 'annotations', 'syslog_url', 'shape']],
      ['/v2/fns', '/v2/fns/{fn_id}', ['name', 'app_id', 'image', 'memory', 'timeout', 'idle_timeout', 'config', 'annotations']],
      ['/v2/triggers', '/v2/triggers/{trigger_id}', ['name', 'app_id', 'fn_id', 'type', 'source', 'annotations']],
    ] as const;
    for (const [collection, item, fields] of resources) {
      expect(Object.keys(doc.paths[collection] ?? {}).sort(), collection).toEqual(['get', 'post']);
      expect(Object.keys(doc.paths[item] ?? {}).sort(), item).toEqual(['delete', 'get', 'put']);
      expect(bodyFields(collection, 'post')).toEqual(expect.arrayContaining([...fields]));
      expect(bodyFields(item, 'put')).toEqual(expect.arrayContaining([...fields]));
    }
  });
});

describe('API request bodies', () => {
  it('answers 413 with a code to a JSON body over 1 MiB, creating nothing', async () => {
    const body = JSON.stringify({ name: 'big', config: { BLOB: 'x'.repeat(1024 * 1024) } });
    const res = await req('POST', '/v2/apps', body, { 'content-type': 'application/json' });
    expectError(res, 413, /too large/, 'FNTS_ERR_API_PAYLOAD_TOO_LARGE');
    expect((await req('GET', '/v2/apps')).json()).toEqual({ items: [] });
    // Just under the limit is fine.
    const fits = JSON.stringify({ name: 'fits', config: { BLOB: 'x'.repeat(1024 * 1024 - 100) } });
    expect((await req('POST', '/v2/apps', fits, { 'content-type': 'application/json' })).statusCode).toBe(200);
  });

  it('reads a body sent with a form Content-Type as JSON, as Fn does (curl -d)', async () => {
    const res = await req('POST', '/v2/apps', JSON.stringify({ name: 'form' }), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<AppJson>().name).toBe('form');
  });

  it('reads a body sent with Content-Type text/plain as JSON, as Fn does', async () => {
    for (const type of ['text/plain', 'text/plain; charset=utf-8']) {
      const name = `plain${type.length}`;
      const res = await req('POST', '/v2/apps', JSON.stringify({ name }), { 'content-type': type });
      expect({ type, status: res.statusCode, body: res.body }).toEqual({ type, status: 200, body: expect.stringContaining(`"name":"${name}"`) });
    }
  });

  it('reads a body without a Content-Type as JSON', async () => {
    const res = await req('POST', '/v2/apps', Buffer.from(JSON.stringify({ name: 'untyped' })));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<AppJson>().name).toBe('untyped');
  });
});

describe('apps', () => {
  it('creates an app with 200 and Fn\'s exact JSON shape, omitting empty config and annotations', async () => {
    const res = await req('POST', '/v2/apps', { name: 'myapp' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.json<AppJson>();
    expect(body).toEqual({ id: expect.stringMatching(ID), name: 'myapp', created_at: expect.any(String), updated_at: expect.any(String) });
    expect(body.id).toHaveLength(26);
    expect(body.created_at).toMatch(RFC3339_MS);
    expect(body.updated_at).toBe(body.created_at);
    expect(await getApp(body.id)).toEqual(body);
  });

  it('returns config, annotations, syslog_url and shape when they are set', async () => {
    const body = await createApp({
      name: 'full',
      config: { A: '1', DROPPED: '' },
      annotations: { 'example.com/k': { nested: [1, 2] }, n: 3 },
      syslog_url: 'tcp+tls://logs.example.com:6514',
      shape: 'GENERIC_ARM',
    });
    expect(body).toEqual({
      id: expect.stringMatching(ID),
      name: 'full',
      config: { A: '1' },
      annotations: { 'example.com/k': { nested: [1, 2] }, n: 3 },
      syslog_url: 'tcp+tls://logs.example.com:6514',
      shape: 'GENERIC_ARM',
      created_at: expect.stringMatching(RFC3339_MS),
      updated_at: expect.stringMatching(RFC3339_MS),
    });
  });

  it('accepts Unicode letters, digits, _ and - in app names', async () => {
    expect((await createApp({ name: 'Ünïcode_app-1' })).name).toBe('Ünïcode_app-1');
  });

  it('refuses a duplicate app name with 409', async () => {
    await createApp({ name: 'dup' });
    expectError(await req('POST', '/v2/apps', { name: 'dup' }), 409, 'App already exists');
  });

  it('validates the app name on create', async () => {
    expectError(await req('POST', '/v2/apps', {}), 400, 'Missing Name');
    expectError(await req('POST', '/v2/apps', { name: '' }), 400, 'Missing Name');
    expectError(await req('POST', '/v2/apps', { name: 'has space' }), 400, 'Invalid app name');
    expectError(await req('POST', '/v2/apps', { name: 'a/b' }), 400, 'Invalid app name');
    expectError(await req('POST', '/v2/apps', { name: 'a'.repeat(256) }), 400, 'App name must be 255 characters or less');
    expect((await createApp({ name: 'a'.repeat(255) })).name).toHaveLength(255);
  });

  it('refuses an id on create', async () => {
    expectError(await req('POST', '/v2/apps', { name: 'x', id: UNKNOWN_ID }), 400, 'App ID cannot be supplied on create');
  });

  it('refuses a syslog url with an unsupported scheme, quoting it', async () => {
    expectError(
      await req('POST', '/v2/apps', { name: 'x', syslog_url: 'http://logs.example.com' }),
      400,
      'invalid syslog url: "http://logs.example.com" invalid scheme, only [tcp, udp, unix, unixgram, tcp+tls] are supported',
    );
    expectError(
      await req('POST', '/v2/apps', { name: 'x', syslog_url: 'not a url' }),
      400,
      'invalid syslog url: "not a url" invalid scheme, only [tcp, udp, unix, unixgram, tcp+tls] are supported',
    );
    for (const url of ['tcp://h:514', 'udp://h:514', 'unix:///dev/log', 'unixgram:///dev/log']) {
      const res = await req('POST', '/v2/apps', { name: `s${url.length}${url.slice(0, 3)}`, syslog_url: url });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('refuses an unknown shape', async () => {
    expectError(await req('POST', '/v2/apps', { name: 'x', shape: 'GENERIC_RISCV' }), 400, 'Invalid app shape');
  });

  it('answers Invalid JSON with a code for a body that is not JSON, not an object, or empty', async () => {
    const bad = await req('POST', '/v2/apps', '{"name":', { 'content-type': 'application/json' });
    expect(expectError(bad, 400, 'Invalid JSON').code).toBe('FNTS_ERR_API_INVALID_JSON');
    expectError(await req('POST', '/v2/apps', '', { 'content-type': 'application/json' }), 400, 'Invalid JSON');
    expectError(await req('POST', '/v2/apps', '[]', { 'content-type': 'application/json' }), 400, 'Invalid JSON');
    expectError(await req('POST', '/v2/apps'), 400, 'Invalid JSON');
  });

  it('answers Invalid JSON for fields of the wrong JSON type instead of coercing them', async () => {
    for (const body of [{ name: 123 }, { name: ['arr'] }, { name: 'cfg', config: { A: 1 } }, { name: 'cfg2', config: { A: true } }]) {
      const res = await req('POST', '/v2/apps', body);
      expect({ body, status: res.statusCode, message: res.json<ErrorJson>().message }).toEqual({
        body,
        status: 400,
        message: 'Invalid JSON',
      });
      expect(res.json<ErrorJson>().code).toBe('FNTS_ERR_API_INVALID_JSON');
    }
    const list = (await req('GET', '/v2/apps')).json<ListJson<AppJson>>();
    expect(list.items).toEqual([]);
  });

  it('gets an app by id and answers 404 App not found for an unknown id', async () => {
    const created = await createApp({ name: 'one' });
    expect(await getApp(created.id)).toEqual(created);
    const body = expectError(await req('GET', `/v2/apps/${UNKNOWN_ID}`), 404, 'App not found');
    expect(body.code).toBe('FNTS_ERR_APP_NOT_FOUND');
  });

  it('lists apps ordered by name, always with an items array, filtered exactly by name=', async () => {
    expect((await req('GET', '/v2/apps')).json()).toEqual({ items: [] });
    for (const name of ['charlie', 'alpha', 'bravo', 'alphabet']) await createApp({ name });
    const all = (await req('GET', '/v2/apps')).json<ListJson<AppJson>>();
    expect(all.items.map((a) => a.name)).toEqual(['alpha', 'alphabet', 'bravo', 'charlie']);
    expect(all.next_cursor).toBeUndefined();
    const filtered = (await req('GET', '/v2/apps?name=alpha')).json<ListJson<AppJson>>();
    expect(filtered.items.map((a) => a.name)).toEqual(['alpha']);
    expect((await req('GET', '/v2/apps?name=alp')).json()).toEqual({ items: [] });
  });

  it('pages through apps with per_page and next_cursor, which is present only on a full page', async () => {
    for (const name of ['e', 'c', 'a', 'd', 'b']) await createApp({ name });
    const pages: string[][] = [];
    let cursor: string | undefined;
    let url = '/v2/apps?per_page=2';
    for (;;) {
      const res = await req('GET', url);
      expect(res.statusCode).toBe(200);
      const page = res.json<ListJson<AppJson>>();
      pages.push(page.items.map((a) => a.name));
      if (page.next_cursor === undefined) break;
      // Unpadded URL-safe base64 of the last name (CONTRACT §4.6).
      expect(page.next_cursor).toBe(Buffer.from(page.items[page.items.length - 1]?.name ?? '').toString('base64url'));
      cursor = page.next_cursor;
      url = `/v2/apps?per_page=2&cursor=${encodeURIComponent(cursor)}`;
    }
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);

    // With an exact multiple, the last full page still has a cursor and the next page is empty.
    await req('DELETE', `/v2/apps/${(await req('GET', '/v2/apps?name=e')).json<ListJson<AppJson>>().items[0]?.id ?? ''}`);
    const second = (await req('GET', `/v2/apps?per_page=2&cursor=${Buffer.from('b').toString('base64url')}`)).json<ListJson<AppJson>>();
    expect(second.items.map((a) => a.name)).toEqual(['c', 'd']);
    expect(second.next_cursor).toBeDefined();
    const last = (await req('GET', `/v2/apps?per_page=2&cursor=${second.next_cursor ?? ''}`)).json();
    expect(last).toEqual({ items: [] });
  });

  it('clamps per_page above 100 to 100 and treats 0 or non-numbers as the default 30', async () => {
    for (let i = 0; i < 105; i++) await createApp({ name: `app-${String(i).padStart(3, '0')}` });
    const big = (await req('GET', '/v2/apps?per_page=1000')).json<ListJson<AppJson>>();
    expect(big.items).toHaveLength(100);
    expect(big.items[99]?.name).toBe('app-099');
    expect(big.next_cursor).toBe(Buffer.from('app-099').toString('base64url'));
    const rest = (await req('GET', `/v2/apps?per_page=1000&cursor=${big.next_cursor ?? ''}`)).json<ListJson<AppJson>>();
    expect(rest.items.map((a) => a.name)).toEqual(['app-100', 'app-101', 'app-102', 'app-103', 'app-104']);
    expect(rest.next_cursor).toBeUndefined();
    for (const perPage of ['0', '-5', 'abc', '']) {
      expect((await req('GET', `/v2/apps?per_page=${perPage}`)).json<ListJson<AppJson>>().items, perPage).toHaveLength(30);
    }
    expect((await req('GET', '/v2/apps')).json<ListJson<AppJson>>().items).toHaveLength(30);
  });

  it('answers 400 with a code for a cursor that is not one it issued', async () => {
    await createApp({ name: 'a' });
    for (const cursor of ['!!!', 'a', '%%%']) {
      const res = await req('GET', `/v2/apps?cursor=${encodeURIComponent(cursor)}`);
      expectError(res, 400, /cursor/);
    }
  });

  it('merges config on PUT: new keys set, "" and null delete, absent keys kept', async () => {
    const created = await createApp({ name: 'cfg', config: { KEEP: 'k', CHANGE: 'old', EMPTY: 'e', NULL: 'n' } });
    const res = await req('PUT', `/v2/apps/${created.id}`, { config: { CHANGE: 'new', ADD: 'a', EMPTY: '', NULL: null } });
    expect(res.statusCode).toBe(200);
    const updated = res.json<AppJson>();
    expect(updated.config).toEqual({ KEEP: 'k', CHANGE: 'new', ADD: 'a' });
    expect(updated.id).toBe(created.id);
    expect(updated.created_at).toBe(created.created_at);
    expect(await getApp(created.id)).toEqual(updated);

    const emptied = (await req('PUT', `/v2/apps/${created.id}`, { config: { KEEP: null, CHANGE: '', ADD: '' } })).json<AppJson>();
    expect(emptied).not.toHaveProperty('config');
  });

  it('moves updated_at forward when a PUT changes something', async () => {
    const created = await createApp({ name: 'ts' });
    await clockPast(created.updated_at);
    const updated = (await req('PUT', `/v2/apps/${created.id}`, { config: { A: 'b' } })).json<AppJson>();
    expect(updated.updated_at).toMatch(RFC3339_MS);
    expect(updated.updated_at > created.updated_at).toBe(true);
  });

  it('keeps updated_at when a PUT changes nothing', async () => {
    const created = await createApp({ name: 'same', config: { A: 'b' }, syslog_url: 'tcp://h:1' });
    await clockPast(created.updated_at);
    for (const body of [{}, { config: { A: 'b' } }, { name: 'same' }, { syslog_url: 'tcp://h:1' }, { config: { MISSING: '' } }]) {
      const res = await req('PUT', `/v2/apps/${created.id}`, body);
      expect(res.statusCode).toBe(200);
      expect(res.json<AppJson>().updated_at, JSON.stringify(body)).toBe(created.updated_at);
    }
    expect((await getApp(created.id)).updated_at).toBe(created.updated_at);
  });

  it('sets and clears syslog_url on PUT, validating it', async () => {
    const created = await createApp({ name: 'sys' });
    expect((await req('PUT', `/v2/apps/${created.id}`, { syslog_url: 'udp://h:514' })).json<AppJson>().syslog_url).toBe('udp://h:514');
    expectError(
      await req('PUT', `/v2/apps/${created.id}`, { syslog_url: 'ftp://h' }),
      400,
      'invalid syslog url: "ftp://h" invalid scheme, only [tcp, udp, unix, unixgram, tcp+tls] are supported',
    );
    expect((await getApp(created.id)).syslog_url).toBe('udp://h:514');
    expect((await req('PUT', `/v2/apps/${created.id}`, { syslog_url: '' })).json()).not.toHaveProperty('syslog_url');
  });

  it('ignores shape on PUT', async () => {
    const created = await createApp({ name: 'shaped', shape: 'GENERIC_X86' });
    const res = await req('PUT', `/v2/apps/${created.id}`, { shape: 'GENERIC_ARM' });
    expect(res.statusCode).toBe(200);
    expect((await getApp(created.id)).shape).toBe('GENERIC_X86');
  });

  it('refuses a PUT whose body id differs from the path and changes nothing', async () => {
    const a = await createApp({ name: 'a', config: { X: '1' } });
    const b = await createApp({ name: 'b', config: { X: '1' } });
    const res = await req('PUT', `/v2/apps/${a.id}`, { id: b.id, config: { X: '2' } });
    expect(expectError(res, 400, 'App ID in path does not match ID in body').code).toBe('FNTS_ERR_API_ID_MISMATCH');
    expect(await getApp(a.id)).toEqual(a);
    expect(await getApp(b.id)).toEqual(b);
    // The same id in the body is fine.
    expect((await req('PUT', `/v2/apps/${a.id}`, { id: a.id, config: { X: '3' } })).json<AppJson>().config).toEqual({ X: '3' });
  });

  it('refuses a name change on PUT with 409 and changes nothing', async () => {
    const a = await createApp({ name: 'fixed', config: { X: '1' } });
    expectError(await req('PUT', `/v2/apps/${a.id}`, { name: 'renamed', config: { X: '2' } }), 409, 'Could not update - name is immutable');
    expect(await getApp(a.id)).toEqual(a);
  });

  it('answers 404 on PUT of an unknown app', async () => {
    expectError(await req('PUT', `/v2/apps/${UNKNOWN_ID}`, { config: { A: 'b' } }), 404, 'App not found');
  });

  it('deletes an app with 204 and an empty body, then answers 404', async () => {
    const a = await createApp({ name: 'gone' });
    const res = await req('DELETE', `/v2/apps/${a.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expectError(await req('GET', `/v2/apps/${a.id}`), 404, 'App not found');
    expectError(await req('DELETE', `/v2/apps/${a.id}`), 404, 'App not found');
  });
});

describe('annotations', () => {
  it('refuses keys with whitespace or empty keys', async () => {
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { 'has space': 'v' } }), 400, MSG.annotationKey);
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { '': 'v' } }), 400, MSG.annotationKey);
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { 'tab\tkey': 'v' } }), 400, MSG.annotationKey);
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { 'ключ': 'v' } }), 400, MSG.annotationKey);
  });

  it('refuses a key longer than 128 bytes', async () => {
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { ['k'.repeat(129)]: 'v' } }), 400, MSG.annotationKeyLength);
    expect((await createApp({ name: 'x', annotations: { ['k'.repeat(128)]: 'v' } })).annotations).toEqual({ ['k'.repeat(128)]: 'v' });
  });

  it('refuses a value over 512 bytes when serialised as JSON', async () => {
    // 510 characters plus two quotes is exactly 512 bytes.
    expect((await createApp({ name: 'ok', annotations: { k: 'v'.repeat(510) } })).annotations).toEqual({ k: 'v'.repeat(510) });
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { k: 'v'.repeat(511) } }), 400, MSG.annotationValueLength);
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { k: { big: 'v'.repeat(600) } } }), 400, MSG.annotationValueLength);
  });

  it('refuses empty and boolean values on create', async () => {
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { k: '' } }), 400, MSG.annotationValue);
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { k: null } }), 400, MSG.annotationValue);
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { k: true } }), 400, MSG.annotationValue);
    expect((await req('GET', '/v2/apps')).json()).toEqual({ items: [] });
  });

  it('deletes a key given as "" or null on update and sets the others', async () => {
    const a = await createApp({ name: 'ann', annotations: { keep: 'k', empty: 'e', nul: 'n' } });
    const res = await req('PUT', `/v2/apps/${a.id}`, { annotations: { empty: '', nul: null, added: [1] } });
    expect(res.statusCode).toBe(200);
    expect(res.json<AppJson>().annotations).toEqual({ keep: 'k', added: [1] });
    expect((await getApp(a.id)).annotations).toEqual({ keep: 'k', added: [1] });
  });

  it('refuses more than 100 keys, on create and when an update would pass the limit', async () => {
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    expectError(await req('POST', '/v2/apps', { name: 'x', annotations: { ...hundred, extra: 1 } }), 400, MSG.annotationCount);
    const a = await createApp({ name: 'full', annotations: hundred });
    expectError(await req('PUT', `/v2/apps/${a.id}`, { annotations: { extra: 1 } }), 400, MSG.annotationCount);
    expect(Object.keys((await getApp(a.id)).annotations ?? {})).toHaveLength(100);
    // Deleting one in the same update makes room.
    const swapped = (await req('PUT', `/v2/apps/${a.id}`, { annotations: { k0: '', extra: 1 } })).json<AppJson>();
    expect(Object.keys(swapped.annotations ?? {})).toHaveLength(100);
    expect(swapped.annotations?.extra).toBe(1);
  });

  it('applies the same rules to fn annotations', async () => {
    const a = await createApp({ name: 'fa' });
    const base = { app_id: a.id, image: 'img:1' };
    expectError(await req('POST', '/v2/fns', { ...base, name: 'f', annotations: { 'a b': 1 } }), 400, MSG.annotationKey);
    expectError(await req('POST', '/v2/fns', { ...base, name: 'f', annotations: { k: '' } }), 400, MSG.annotationValue);
    const fn = await createFn({ ...base, name: 'f', annotations: { gone: 'x', kept: 'y' } });
    const res = await req('PUT', `/v2/fns/${fn.id}`, { annotations: { gone: null } });
    expect(res.statusCode).toBe(200);
    expect((await getFn(fn.id)).annotations).toEqual({ kept: 'y', [INVOKE_ENDPOINT]: `http://localhost:80/invoke/${fn.id}` });
  });
});
