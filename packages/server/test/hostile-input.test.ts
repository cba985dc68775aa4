import { describe, expect, it } from 'vitest';
import { containerEnv } from '../src/agent/agent.js';
import { nestingDepth } from '../src/api/body-rules.js';
import { checkImage } from '../src/api/validate.js';
import type { App, Fn } from '../src/store/models.js';
import { createApp, createFn, expectError, req, useApiServer, type FnJson } from './support/api.js';

/** Bodies a hostile or careless client sends: each is a 4xx with a code, and the server answers the next call. */
describe('hostile API input', () => {
  useApiServer();

  it('refuses config keys that cannot be environment variables or that name a platform variable, on apps and fns', async () => {
    const app = await createApp({ name: 'cfg' });
    const cases: [Record<string, string>, RegExp][] = [
      [{ FN_FORMAT: 'x' }, /config key FN_FORMAT is set by the platform/],
      [{ 'FN_FORMAT=json#': 'x' }, /may not contain "=" or NUL/],
      [{ 'A\u0000B': 'x' }, /may not contain "=" or NUL/],
      [{ '': 'x' }, /config keys may not be empty/],
      [{ FNTS_CONFIG_KEYS: 'x' }, /is set by the platform/],
      [{ OK: 'a\u0000b' }, /config value of OK may not contain NUL/],
    ];
    for (const [config, message] of cases) {
      expectError(await req('POST', '/v2/apps', { name: 'bad', config }), 400, message, 'FNTS_ERR_API_VALIDATION');
      expectError(await req('PUT', `/v2/apps/${app.id}`, { config }), 400, message, 'FNTS_ERR_API_VALIDATION');
      expectError(await req('POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'x:1', config }), 400, message);
    }
    // Deleting such a key (stored before the rule existed) is always allowed, and ordinary keys still work.
    const ok = await req('PUT', `/v2/apps/${app.id}`, { config: { FN_FORMAT: '', 'my.key-1': 'v' } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<{ config: Record<string, string> }>().config).toEqual({ 'my.key-1': 'v' });
  });

  it('keeps an invalid stored config key out of the container environment, platform variables last', () => {
    const app = { id: 'A', name: 'a', config: { 'X=Y': '1', FN_FORMAT: 'evil', GOOD: 'g' }, annotations: {} } as unknown as App;
    const fn = { id: 'F', name: 'f', memory: 128, config: {} } as unknown as Fn;
    const env = containerEnv(app, fn);
    expect(env).not.toHaveProperty('X=Y');
    expect(env.FN_FORMAT).toBe('http-stream');
    expect(env.GOOD).toBe('g');
  });

  it('validates image references with Docker\'s grammar at create and update', async () => {
    const app = await createApp({ name: 'img' });
    for (const image of ['has space:1', 'alpine; rm -rf /', 'Upper:1', 'x:', 'x@sha256:12', '-lead', `a/${'b'.repeat(300)}`]) {
      expectError(await req('POST', '/v2/fns', { name: 'f', app_id: app.id, image }), 400, /^invalid image /, 'FNTS_ERR_API_VALIDATION');
    }
    const fn = await createFn({ name: 'f', app_id: app.id, image: 'hello:0.0.2' });
    expectError(await req('PUT', `/v2/fns/${fn.id}`, { image: 'bad image' }), 400, /^invalid image /);
    expect((await req('GET', `/v2/fns/${fn.id}`)).json<FnJson>().image).toBe('hello:0.0.2');
    for (const image of [
      'hello', 'hello:0.0.2', 'fnproject/fn-test-utils', 'localhost:5000/team/fn_name.v2:latest', 'registry.example.com/a/b-c__d:1.0-rc',
      `node@sha256:${'a'.repeat(64)}`, '[::1]:5000/x:y',
    ]) {
      expect(checkImage(image)).toBe(image);
    }
  });

  it('refuses JSON nested deeper than 64 levels with 400 before anything recurses over it', async () => {
    const deep = `{"name":"deep","annotations":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    expectError(await req('POST', '/v2/apps', deep, { 'content-type': 'application/json' }), 400, /nested deeper than 64/, 'FNTS_ERR_API_INVALID_JSON');
    expect(nestingDepth('{"a":"[[[[{{{{","b":[1,[2]]}')).toBe(3);
    expect(nestingDepth('"\\"[["')).toBe(0);
    // The server answers the next call normally.
    expect((await req('POST', '/v2/apps', { name: 'after', annotations: { a: [[1]] } })).statusCode).toBe(200);
  });
});
