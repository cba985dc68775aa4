import { describe, expect, it } from 'vitest';
import { send, useServerUnderTest, type RawResponse, type ServerUnderTest } from './support/server-process.js';

/**
 * The Fn-client contract: what the official Fn CLI (fnproject/cli 0.6.63) and Go clients built on Fn's own
 * models put on the wire, and the answers Fn gives them (CONTRACT §4), replayed against a real fnts server
 * process over HTTP. The second half replays the cases of Fn's API table tests (fnproject/fn
 * `api/server/{apps,fns,trigger}_test.go`) with the messages of `api/models/error.go`.
 */

const ZERO = '0001-01-01T00:00:00.000Z';
const JSON_TYPE = { 'content-type': 'application/json' };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

function expectFnError(res: RawResponse, status: number, message: string): void {
  expect({ status: res.status, message: res.json?.message }, res.text).toEqual({ status, message });
  expect(res.json.code).toMatch(/^FNTS_ERR_/);
}

function expectOk(res: RawResponse, status = 200): void {
  expect(res.status, res.text).toBe(status);
}

describe('Fn-client contract: the request shapes of the official Fn CLI', () => {
  const sut = useServerUnderTest();
  const api = (method: string, path: string, body?: string | object, headers?: Record<string, string>) =>
    send(sut.url, method, path, body, headers);

  it('deploys an app, a function and an HTTP trigger with zero times and null maps, then deletes them with empty JSON bodies', async () => {
    // fn deploy --create-app: look the app up by name, create it (Go's zero times, nil maps as null).
    const none = await api('GET', '/v2/apps?name=compatapp', undefined, JSON_TYPE);
    expectOk(none);
    expect(none.json).toEqual({ items: [] });
    const app = await api('POST', '/v2/apps', { created_at: ZERO, name: 'compatapp', updated_at: ZERO, config: null, annotations: null });
    expectOk(app);
    expect(app.json.name).toBe('compatapp');
    expect(app.json.created_at).not.toBe(ZERO);
    expect(app.json.created_at).toBe(app.json.updated_at);
    const A1: string = app.json.id;
    expect((await api('GET', '/v2/apps?name=compatapp')).json.items.map((a: { id: string }) => a.id)).toEqual([A1]);

    // fn create function / deploy: POST with zero times; PUT with the id and zero times.
    const fn = await api('POST', '/v2/fns', { app_id: A1, created_at: ZERO, image: 'hello:0.0.1', name: 'hello', updated_at: ZERO });
    expectOk(fn);
    const F1: string = fn.json.id;
    expect(fn.json.annotations['fnproject.io/fn/invokeEndpoint']).toBe(`${sut.url}/invoke/${F1}`);
    const nullMaps = await api('POST', '/v2/fns', { name: 'h2', app_id: A1, image: 'x:1', config: null, annotations: null });
    expectOk(nullMaps);
    expect(nullMaps.json.config).toEqual({});
    const put = await api('PUT', `/v2/fns/${F1}`, { app_id: A1, created_at: ZERO, id: F1, memory: 256, name: 'hello', updated_at: ZERO });
    expectOk(put);
    expect(put.json.memory).toBe(256);
    expect(put.json.created_at).toBe(fn.json.created_at);
    expect(put.json.annotations['fnproject.io/fn/invokeEndpoint']).toBe(`${sut.url}/invoke/${F1}`);
    const byName = await api('GET', `/v2/fns?app_id=${A1}&name=hello`);
    expect(byName.json.items.map((f: { id: string }) => f.id)).toEqual([F1]);

    // fn create trigger APP FN htrig --type http --source /hello
    const trigger = await api('POST', '/v2/triggers', {
      app_id: A1, created_at: ZERO, fn_id: F1, name: 'htrig', source: '/hello', type: 'http', updated_at: ZERO,
    });
    expectOk(trigger);
    const T1: string = trigger.json.id;
    expect(trigger.json.annotations['fnproject.io/trigger/httpEndpoint']).toBe(`${sut.url}/t/compatapp/hello`);
    const found = await api('GET', `/v2/triggers?app_id=${A1}&fn_id=${F1}&name=htrig`);
    expect(found.json.items.map((t: { id: string }) => t.id)).toEqual([T1]);
    const triggerPut = await api('PUT', `/v2/triggers/${T1}`, {
      app_id: A1, created_at: ZERO, fn_id: F1, id: T1, name: 'htrig', source: '/hello2', type: 'http', updated_at: ZERO,
    });
    expectOk(triggerPut);
    expect(triggerPut.json.source).toBe('/hello2');
    expect(triggerPut.json.annotations['fnproject.io/trigger/httpEndpoint']).toBe(`${sut.url}/t/compatapp/hello2`);

    // fn update app with zero times and config; fn config app / fn unset config app.
    const appPut = await api('PUT', `/v2/apps/${A1}`, { created_at: ZERO, id: A1, name: 'compatapp', updated_at: ZERO, config: { K: 'v' } });
    expectOk(appPut);
    expect(appPut.json.config).toEqual({ K: 'v' });
    const unset = await api('PUT', `/v2/apps/${A1}`, { config: { K: '' } });
    expect(unset.json.config).toBeUndefined();
    const fnConfig = await api('PUT', `/v2/fns/${F1}`, { id: F1, app_id: A1, config: { K: 'v' }, created_at: ZERO, updated_at: ZERO });
    expect(fnConfig.json.config).toEqual({ K: 'v' });

    // inspect: GET by id with a JSON content type and no body.
    expectOk(await api('GET', `/v2/apps/${A1}`, undefined, JSON_TYPE));
    expect((await api('GET', `/v2/fns/${F1}`, undefined, JSON_TYPE)).json.annotations['fnproject.io/fn/invokeEndpoint']).toBe(
      `${sut.url}/invoke/${F1}`,
    );
    expect((await api('GET', `/v2/triggers/${T1}`, undefined, JSON_TYPE)).json.name).toBe('htrig');

    // fn delete trigger / function / app: DELETE with Content-Type: application/json and no body.
    expectOk(await api('DELETE', `/v2/triggers/${T1}`, undefined, JSON_TYPE), 204);
    expectOk(await api('DELETE', `/v2/fns/${F1}`, undefined, JSON_TYPE), 204);
    expectOk(await api('DELETE', `/v2/apps/${A1}`, undefined, JSON_TYPE), 204);
    expectFnError(await api('DELETE', `/v2/apps/${A1}`, undefined, JSON_TYPE), 404, 'App not found');
  });

  it('answers an empty body with a JSON content type as no body on DELETE of unknown resources', async () => {
    expectFnError(await api('DELETE', '/v2/apps/nope', undefined, JSON_TYPE), 404, 'App not found');
    expectFnError(await api('DELETE', '/v2/fns/nope', '', JSON_TYPE), 404, 'Fn not found');
    expectFnError(await api('DELETE', '/v2/triggers/nope', '  \n', JSON_TYPE), 404, 'Trigger not found');
  });

  it('still answers Invalid JSON for an empty or broken body where one is required', async () => {
    expectFnError(await api('POST', '/v2/apps', '', JSON_TYPE), 400, 'Invalid JSON');
    expectFnError(await api('POST', '/v2/apps', '{"name":', JSON_TYPE), 400, 'Invalid JSON');
    expectFnError(await api('POST', '/v2/apps', { name: 7 }), 400, 'Invalid JSON');
  });

  it('keeps Fn\'s errors for a real (non-zero) time supplied on trigger create', async () => {
    const A = (await api('POST', '/v2/apps', { name: 'times' })).json.id as string;
    const F = (await api('POST', '/v2/fns', { name: 'f', app_id: A, image: 'x:1' })).json.id as string;
    const base = { app_id: A, fn_id: F, name: 't', type: 'http', source: '/t' };
    expectFnError(await api('POST', '/v2/triggers', { ...base, created_at: '2020-01-01T00:00:00.000Z' }), 400, 'Trigger Created At Provided for Create');
    expectFnError(await api('POST', '/v2/triggers', { ...base, updated_at: '2020-01-01T00:00:00.000Z' }), 400, 'Trigger ID Provided for Create');
    // Every precision Go may write its zero time in counts as absent.
    expectOk(await api('POST', '/v2/triggers', { ...base, created_at: '0001-01-01T00:00:00Z', updated_at: '0001-01-01T00:00:00.000000000Z' }));
  });

  it('treats null as absent for every optional field on create and update, and keeps null as "default" for max_containers', async () => {
    const app = await api('POST', '/v2/apps', { name: 'nulls', config: null, annotations: null, syslog_url: null, shape: null });
    expectOk(app);
    expect(app.json).not.toHaveProperty('config');
    const A = app.json.id as string;
    const fn = await api('POST', '/v2/fns', {
      name: 'f', app_id: A, image: 'x:1', config: null, annotations: null, memory: null, timeout: null, idle_timeout: null, max_containers: 3,
    });
    expectOk(fn);
    expect([fn.json.memory, fn.json.timeout, fn.json.max_containers]).toEqual([128, 30, 3]);
    const F = fn.json.id as string;
    const put = await api('PUT', `/v2/fns/${F}`, { image: null, config: null, annotations: null, max_containers: null });
    expectOk(put);
    expect(put.json.image).toBe('x:1');
    expect(put.json).not.toHaveProperty('max_containers');
    const t = await api('POST', '/v2/triggers', { app_id: A, fn_id: F, name: 't', type: 'http', source: '/n', annotations: null, id: null });
    expectOk(t);
    expectOk(await api('PUT', `/v2/triggers/${t.json.id}`, { name: null, source: null, annotations: null }));
    expectOk(await api('PUT', `/v2/apps/${A}`, { config: null, annotations: null, syslog_url: null }));
  });

  it('accepts Fn\'s name-only cursors on every list with Fn\'s meaning: the items after that name', async () => {
    const A = (await api('POST', '/v2/apps', { name: 'cursors' })).json.id as string;
    const F = (await api('POST', '/v2/fns', { name: 'f1', app_id: A, image: 'x:1' })).json.id as string;
    await api('POST', '/v2/fns', { name: 'f2', app_id: A, image: 'x:1' });
    for (const name of ['trigger1', 'trigger2', 'trigger3']) {
      expectOk(await api('POST', '/v2/triggers', { app_id: A, fn_id: F, name, type: 'http', source: `/${name}` }));
    }
    const page = await api('GET', `/v2/triggers?app_id=${A}&fn_id=${F}&per_page=1&cursor=${b64('trigger1')}`);
    expect(page.json.items.map((t: { name: string }) => t.name)).toEqual(['trigger2']);
    const fns = await api('GET', `/v2/fns?app_id=${A}&per_page=1&cursor=${b64('f1')}`);
    expect(fns.json.items.map((f: { name: string }) => f.name)).toEqual(['f2']);
    const apps = await api('GET', `/v2/apps?per_page=100&cursor=${b64('cursors')}`);
    expect(apps.json.items.map((a: { name: string }) => a.name)).not.toContain('cursors');
    // fnts's own cursors still page through triggers that share a name across functions.
    const all: string[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const p = await api('GET', `/v2/triggers?app_id=${A}&per_page=1${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...p.json.items.map((t: { name: string }) => t.name));
      if (!p.json.next_cursor) break;
      cursor = p.json.next_cursor;
    }
    expect(all).toEqual(['trigger1', 'trigger2', 'trigger3']);
  });
});

/**
 * Fn's `api/server/*_test.go` tables, case by case, against the real server (messages from Fn's `models/error.go`).
 * Each table gets a fresh server, as each of Fn's gets a fresh datastore.
 */
function fnTable(name: string, body: (api: Api, sut: ServerUnderTest) => Promise<void>): void {
  describe(`Fn-client contract: Fn's API table tests, ${name}`, () => {
    const sut = useServerUnderTest();
    const api: Api = (method, path, payload) => send(sut.url, method, path, payload, payload === undefined ? {} : JSON_TYPE);
    it(name, () => body(api, sut));
  });
}
type Api = (method: string, path: string, body?: string | object) => Promise<RawResponse>;

fnTable('apps: create', async (api) => {
  const cases: [string, number, string | undefined][] = [
    ['', 400, 'Invalid JSON'],
    ['{}', 400, 'Missing Name'],
    ['{"name": "app", "id":"badId"}', 400, 'App ID cannot be supplied on create'],
    ['{ "name": "" }', 400, 'Missing Name'],
    [`{"name": "${'a'.repeat(256)}" }`, 400, 'App name must be 255 characters or less'],
    ['{ "name": "&&%@!#$#@$" }', 400, 'Invalid app name'],
    ['{ "name": "app", "annotations" : { "":"val" }}', 400, 'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace'],
    ['{"name": "app", "annotations" : { "key":"" }}', 400, 'Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays'],
    ['{ "name": "app", "syslog_url":"yo"}', 400, 'invalid syslog url: "yo" invalid scheme, only [tcp, udp, unix, unixgram, tcp+tls] are supported'],
    ['{"name": "app", "syslog_url":"yo://sup.com:1"}', 400, 'invalid syslog url: "yo://sup.com:1" invalid scheme, only [tcp, udp, unix, unixgram, tcp+tls] are supported'],
    ['{ "name": "teste"  }', 200, undefined],
    ['{  "name": "teste2" , "annotations": {"k1":"v1", "k2":[]}}', 200, undefined],
    ['{"name": "teste3", "syslog_url":"tcp://example.com:443" } ', 200, undefined],
    ['{ "name": "teste"  }', 409, 'App already exists'],
  ];
  for (const [body, status, message] of cases) {
    const res = await api('POST', '/v2/apps', body);
    if (message) expectFnError(res, status, message);
    else {
      expectOk(res, status);
      expect(res.json.created_at).toBe(res.json.updated_at);
    }
  }
});

fnTable('apps: get, list with name-cursors, update, delete', async (api) => {
  for (const name of ['myapp', 'myapp2', 'myapp3']) expectOk(await api('POST', '/v2/apps', { name }));
  const list = await api('GET', '/v2/apps?per_page');
  expect(list.json.items).toHaveLength(3);
  expect(list.json).not.toHaveProperty('next_cursor');
  const pages: [string, number, string | undefined][] = [
    ['/v2/apps?per_page=1', 1, b64('myapp')],
    [`/v2/apps?per_page=1&cursor=${b64('myapp')}`, 1, b64('myapp2')],
    [`/v2/apps?per_page=1&cursor=${b64('myapp2')}`, 1, b64('myapp3')],
    [`/v2/apps?per_page=100&cursor=${b64('myapp2')}`, 1, undefined],
    [`/v2/apps?per_page=1&cursor=${b64('myapp3')}`, 0, undefined],
  ];
  for (const [path, len, next] of pages) {
    const res = await api('GET', path);
    expect([res.json.items.length, res.json.next_cursor], path).toEqual([len, next]);
  }
  expectFnError(await api('GET', '/v2/apps/unknownApp'), 404, 'App not found');
  const id = (await api('GET', '/v2/apps?name=myapp')).json.items[0].id as string;
  expectOk(await api('GET', `/v2/apps/${id}`));

  expectFnError(await api('PUT', '/v2/apps/not_app', '{ }'), 404, 'App not found');
  expectFnError(await api('PUT', `/v2/apps/${id}`, ''), 400, 'Invalid JSON');
  expectFnError(await api('PUT', `/v2/apps/${id}`, '{  "name": "othername" }'), 409, 'Could not update - name is immutable');
  expectFnError(await api('PUT', `/v2/apps/${id}`, '{  "id": "other" }'), 400, 'App ID in path does not match ID in body');
  for (const body of ['{ "annotations":{"foo":"bar"}}', '{  "config": { "test": "1" }  }', '{ "syslog_url":"tcp://example.com:443" }']) {
    const res = await api('PUT', `/v2/apps/${id}`, body);
    expectOk(res);
    expect(res.json.updated_at > res.json.created_at || res.json.updated_at === res.json.created_at).toBe(true);
  }
  const updated = (await api('GET', `/v2/apps/${id}`)).json;
  expect(updated).toMatchObject({ annotations: { foo: 'bar' }, config: { test: '1' }, syslog_url: 'tcp://example.com:443' });

  expectFnError(await api('DELETE', '/v2/apps/myapp'), 404, 'App not found');
  expectOk(await api('DELETE', `/v2/apps/${id}`), 204);
});

fnTable('fns: create, update, get, list, delete', async (api, sut) => {
  const A = (await api('POST', '/v2/apps', { name: 'a' })).json.id as string;
  const create: [string, number, string | undefined][] = [
    ['', 400, 'Invalid JSON'],
    ['{ }', 400, 'Missing AppID on Fn'],
    [`{ "app_id": "${A}" }`, 400, 'Missing Fn name'],
    [`{ "app_id": "${A}", "name": "a" }`, 400, 'Missing image on Fn'],
    [`{ "app_id": "${A}", "name": " ", "image": "fnproject/fn-test-utils" }`, 400, 'name must be a valid string'],
    [`{ "app_id": "${A}", "name": "a", "image": "fnproject/fn-test-utils", "timeout": 3601 }`, 400, 'timeout value is out of range, must be between 0 and 300'],
    [`{ "app_id": "${A}", "name": "a", "image": "fnproject/fn-test-utils", "idle_timeout": 3601 }`, 400, 'idle_timeout value is out of range, must be between 0 and 3600'],
    [`{ "app_id": "${A}", "name": "a", "image": "fnproject/fn-test-utils", "memory": 100000000000000 }`, 400, 'memory value is out of range. It should be between 0 and 8192'],
    [`{ "app_id": "missing", "name": "a", "image": "fnproject/fn-test-utils" }`, 404, 'App not found'],
    [`{ "app_id": "${A}", "name": "myfunc", "image": "fnproject/fn-test-utils" }`, 200, undefined],
    [`{ "app_id": "${A}", "name": "myfunc", "image": "fnproject/fn-test-utils" }`, 409, 'Fn with specified name already exists'],
  ];
  for (const [body, status, message] of create) {
    const res = await api('POST', '/v2/fns', body);
    if (message) expectFnError(res, status, message);
    else expectOk(res, status);
  }
  const F = (await api('GET', `/v2/fns?app_id=${A}&name=myfunc`)).json.items[0].id as string;

  const update: [string, string, number, string | undefined][] = [
    ['/v2/fns/missing', '{ }', 404, 'Fn not found'],
    [`/v2/fns/${F}`, '{ "id": "nottheid" }', 400, 'Fn ID in path does not match that in body'],
    [`/v2/fns/${F}`, '{ "image": "fnproject/test" }', 200, undefined],
    [`/v2/fns/${F}`, '{ "memory": 1000 }', 200, undefined],
    [`/v2/fns/${F}`, '{ "timeout": 10 }', 200, undefined],
    [`/v2/fns/${F}`, '{ "idle_timeout": 10 }', 200, undefined],
    [`/v2/fns/${F}`, '{ "config": {"k":"v"} }', 200, undefined],
    [`/v2/fns/${F}`, '{ "annotations": {"k":"v"} }', 200, undefined],
    [`/v2/fns/${F}`, '{ "timeout": 3601 }', 400, 'timeout value is out of range, must be between 0 and 300'],
    [`/v2/fns/${F}`, '{ "idle_timeout": 3601 }', 400, 'idle_timeout value is out of range, must be between 0 and 3600'],
    [`/v2/fns/${F}`, '{ "memory": 100000000000000 }', 400, 'memory value is out of range. It should be between 0 and 8192'],
  ];
  for (const [path, body, status, message] of update) {
    const res = await api('PUT', path, body);
    if (message) expectFnError(res, status, message);
    else {
      expectOk(res, status);
      expect(res.json.id).toBe(F);
      expect(res.json.annotations['fnproject.io/fn/invokeEndpoint']).toBe(`${sut.url}/invoke/${F}`);
    }
  }
  expect((await api('GET', `/v2/fns/${F}`)).json).toMatchObject({
    image: 'fnproject/test', memory: 1000, timeout: 10, idle_timeout: 10, config: { k: 'v' }, annotations: { k: 'v' },
  });

  for (const name of ['myfunc2', 'myfunc3']) expectOk(await api('POST', '/v2/fns', { app_id: A, name, image: 'fnproject/yo' }));
  const other = (await api('POST', '/v2/apps', { name: 'other' })).json.id as string;
  expectOk(await api('POST', '/v2/fns', { app_id: other, name: 'myfunc3', image: 'fnproject/foo' }));
  expectFnError(await api('GET', '/v2/fns'), 400, 'Missing AppID on Fn');
  const pages: [string, number, string | undefined][] = [
    [`/v2/fns?app_id=${A}`, 3, undefined],
    [`/v2/fns?app_id=${A}&per_page=1`, 1, b64('myfunc')],
    [`/v2/fns?app_id=${A}&per_page=1&cursor=${b64('myfunc')}`, 1, b64('myfunc2')],
    [`/v2/fns?app_id=${A}&per_page=1&cursor=${b64('myfunc2')}`, 1, b64('myfunc3')],
    [`/v2/fns?app_id=${A}&per_page=100&cursor=${b64('myfunc3')}`, 0, undefined],
    [`/v2/fns?app_id=${A}&per_page=1&cursor=${b64('myfunc3')}`, 0, undefined],
  ];
  for (const [path, len, next] of pages) {
    const res = await api('GET', path);
    expect([res.json.items.length, res.json.next_cursor], path).toEqual([len, next]);
    for (const fn of res.json.items) expect(fn.annotations['fnproject.io/fn/invokeEndpoint']).toBe(`${sut.url}/invoke/${fn.id}`);
  }

  expectFnError(await api('GET', '/v2/fns/missing'), 404, 'Fn not found');
  expectFnError(await api('DELETE', '/v2/fns/missing'), 404, 'Fn not found');
  expectOk(await api('DELETE', `/v2/fns/${F}`), 204);
  expectFnError(await api('GET', `/v2/fns/${F}`), 404, 'Fn not found');
});

fnTable('triggers: create, get, list with name-cursors, update, delete', async (api, sut) => {
  const A = (await api('POST', '/v2/apps', { name: 'tapp' })).json.id as string;
  const A2 = (await api('POST', '/v2/apps', { name: 'tapp2' })).json.id as string;
  const F = (await api('POST', '/v2/fns', { app_id: A, name: 'fn', image: 'x:1' })).json.id as string;
  const ok = `"app_id": "${A}", "fn_id": "${F}"`;
  // Fn's table runs against a mock store that looks the app and fn up before validating; its real validator
  // (datastoreutil) checks the body first, which is what a client of a real Fn server sees (CONTRACT §4.3).
  const create: [string, number, string | undefined][] = [
    ['', 400, 'Invalid JSON'],
    ['{}', 400, 'Missing App ID on Trigger'],
    [`{"app_id":"${A}"}`, 400, 'Missing name on Trigger'],
    [`{${ok}}`, 400, 'Missing name on Trigger'],
    [`{${ok}, "name": "Test" }`, 400, 'Trigger Type Not Supported'],
    [`{ "name": "Test", ${ok}, "type":"http"}`, 400, 'Missing Trigger Source'],
    [`{ "name": "Test", ${ok}, "type":"http", "source":"src"}`, 400, "Missing Trigger Source Prefix '/'"],
    [`{ "name": "${'n'.repeat(256)}", ${ok}, "type":"http"}`, 400, 'Trigger name must be 255 characters or less'],
    [`{ "name": "&&%@!#$#@$", ${ok}, "type":"http" }`, 400, 'Invalid name for Trigger'],
    [`{ "name": "trigger", ${ok}, "type": "http", "source": "/src", "annotations" : { "":"val" }}`, 400, 'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace'],
    [`{ "id": "asdasca", "name": "trigger", ${ok}, "type": "http", "source": "/src"}`, 400, 'ID cannot be provided for Trigger creation'],
    [`{ "name": "trigger", ${ok}, "type": "unsupported", "source": "/src"}`, 400, 'Trigger Type Not Supported'],
    [`{ "name": "trigger", "app_id": "missing", "fn_id": "${F}", "type": "http", "source": "/src"}`, 404, 'App not found'],
    [`{ "name": "trigger", "app_id": "${A}", "fn_id": "missing", "type": "http", "source": "/src"}`, 404, 'Fn not found'],
    [`{ "name": "trigger", "app_id": "${A2}", "fn_id": "${F}", "type": "http", "source": "/src"}`, 400, 'Invalid Fn ID - not owned by specified app'],
    [`{ "name": "trigger", ${ok}, "type": "http", "source": "/src"}`, 200, undefined],
    [`{ "name": "trigger", ${ok}, "type": "http", "source": "/src2"}`, 409, 'Trigger already exists'],
    [`{ "name": "trigger9", ${ok}, "type": "http", "source": "/src"}`, 409, 'Trigger with the same type and source exists on this app'],
  ];
  for (const [body, status, message] of create) {
    const res = await api('POST', '/v2/triggers', body);
    if (message) expectFnError(res, status, message);
    else {
      expectOk(res, status);
      expect(res.json.created_at).toBe(res.json.updated_at);
      const got = await api('GET', `/v2/triggers/${res.json.id}`);
      expect(got.json).toEqual(res.json);
      expect(got.json.annotations['fnproject.io/trigger/httpEndpoint']).toBe(`${sut.url}/t/tapp/src`);
    }
  }
  expectFnError(await api('GET', '/v2/triggers/notexist'), 404, 'Trigger not found');

  const F2 = (await api('POST', '/v2/fns', { app_id: A, name: 'fn2', image: 'x:1' })).json.id as string;
  const F3 = (await api('POST', '/v2/fns', { app_id: A2, name: 'fn3', image: 'x:1' })).json.id as string;
  await api('DELETE', `/v2/triggers/${(await api('GET', `/v2/triggers?app_id=${A}&name=trigger`)).json.items[0].id}`);
  for (const [app, fn, name] of [[A, F, 'trigger1'], [A, F, 'trigger2'], [A, F, 'trigger3'], [A, F2, 'trigger4'], [A2, F3, 'trigger5']] as const) {
    expectOk(await api('POST', '/v2/triggers', { app_id: app, fn_id: fn, name, type: 'http', source: `/${name}` }));
  }
  expectFnError(await api('GET', '/v2/triggers?per_page'), 400, 'Missing App ID on Trigger');
  const lists: [string, number, string | undefined][] = [
    [`/v2/triggers?app_id=${A}`, 4, undefined],
    [`/v2/triggers?app_id=${A2}`, 1, undefined],
    [`/v2/triggers?app_id=${A}&name=trigger1`, 1, undefined],
    [`/v2/triggers?app_id=${A}&fn_id=${F}`, 3, undefined],
    [`/v2/triggers?app_id=${A}&fn_id=${F}&per_page`, 3, undefined],
    [`/v2/triggers?app_id=${A}&fn_id=${F}&per_page=1&cursor=${b64('trigger1')}`, 1, undefined],
    [`/v2/triggers?app_id=${A}&fn_id=${F}&per_page=1&cursor=${b64('trigger2')}`, 1, undefined],
    [`/v2/triggers?app_id=${A}&fn_id=${F}&per_page=100&cursor=${b64('trigger2')}`, 1, undefined],
    [`/v2/triggers?app_id=${A}&fn_id=${F}&per_page=1&cursor=${b64('trigger3')}`, 0, undefined],
  ];
  for (const [path, len] of lists) expect((await api('GET', path)).json.items.length, path).toBe(len);
  // Cursors name the page's position: the page after trigger1 is trigger2, after trigger2 is trigger3.
  const after1 = await api('GET', `/v2/triggers?app_id=${A}&fn_id=${F}&per_page=1&cursor=${b64('trigger1')}`);
  expect(after1.json.items[0].name).toBe('trigger2');
  const after2 = await api('GET', `/v2/triggers?app_id=${A}&fn_id=${F}&per_page=1&cursor=${b64('trigger2')}`);
  expect(after2.json.items[0].name).toBe('trigger3');

  const T = (await api('GET', `/v2/triggers?app_id=${A}&name=trigger1`)).json.items[0].id as string;
  expectFnError(await api('PUT', '/v2/triggers/notexist', `{"id": "${T}", "name":"changed"}`), 400, 'ID in path does not match ID in body');
  expectFnError(await api('PUT', '/v2/triggers/notexist', '{"id": "notexist", "name":"changed"}'), 404, 'Trigger not found');
  expectFnError(await api('PUT', `/v2/triggers/${T}`, '{"id": "nonmatching", "name":"changed}'), 400, 'Invalid JSON');
  expectFnError(await api('PUT', `/v2/triggers/${T}`, '{"id": "nonmatching", "name":"changed"}'), 400, 'ID in path does not match ID in body');
  expect((await api('PUT', `/v2/triggers/${T}`, `{"id": "${T}", "name":"changed"}`)).json.name).toBe('changed');
  expectFnError(await api('PUT', `/v2/triggers/${T}`, `{"id": "${T}", "source":"noprefix"}`), 400, "Missing Trigger Source Prefix '/'");
  const again = await api('PUT', `/v2/triggers/${T}`, '{"name":"again"}');
  expectOk(again);
  expect(again.json.annotations['fnproject.io/trigger/httpEndpoint']).toBe(`${sut.url}/t/tapp/trigger1`);
  expect((await api('GET', `/v2/triggers/${T}`)).json).toMatchObject({ name: 'again', source: '/trigger1', fn_id: F, app_id: A });

  expectFnError(await api('DELETE', '/v2/triggers/notexist'), 404, 'Trigger not found');
  expectOk(await api('DELETE', `/v2/triggers/${T}`), 204);
});
