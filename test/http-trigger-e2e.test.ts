import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, useServerProcess } from './support/harness.js';

interface Named { id: string; name: string }

describe('HTTP triggers and detached calls against a real server and real containers', () => {
  const ctx = useServerProcess();
  let appId: string;

  const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await request(`${ctx.server.url}${path}`, {
      method,
      ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.body.text();
    expect(res.statusCode, text).toBeLessThan(300);
    return JSON.parse(text) as T;
  };
  const fnId = async (name: string) => (await api<{ items: Named[] }>('GET', `/v2/fns?app_id=${appId}&name=${name}`)).items[0]?.id;

  beforeAll(async () => {
    await cp(join(REPO_ROOT, 'examples/http-trigger'), join(ctx.dir, 'http-trigger'), { recursive: true });
    const deploy = await runCli(['deploy', '--app', 'shop', '--create-app'], { cwd: join(ctx.dir, 'http-trigger'), env: ctx.env });
    expect(deploy.code, deploy.stderr).toBe(0);
    appId = (await api<{ items: Named[] }>('GET', '/v2/apps?name=shop')).items[0]?.id ?? '';
    // deploy created the trigger declared in func.yaml.
    const triggers = await api<{ items: (Named & { source: string; fn_id: string })[] }>('GET', `/v2/triggers?app_id=${appId}`);
    expect(triggers.items).toMatchObject([{ name: 'items', source: '/items', fn_id: await fnId('items') }]);
  });

  it('maps the function status and headers onto the HTTP response', async () => {
    const res = await request(`${ctx.server.url}/t/shop/items`, {
      method: 'POST',
      body: '{"name":"pen"}',
      headers: { 'content-type': 'application/json', 'x-token': 'abc' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe('/items/pen');
    expect(res.headers['x-request-method']).toBe('POST');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['fn-call-id']).toMatch(/^[0-9A-Z]{26}$/);
    // Headers that are not addressed to the HTTP client are dropped (CONTRACT §2.3).
    expect(res.headers['fn-fdk-version']).toBeUndefined();
    expect(await res.body.json()).toEqual({ created: 'pen' });
  });

  it('passes method, URL and query to the function, and any method reaches it', async () => {
    const get = await request(`${ctx.server.url}/t/shop/items?q=blue`);
    expect(get.statusCode).toBe(200);
    expect(await get.body.json()).toEqual({ items: ['pen', 'paper'], query: 'blue' });

    const put = await request(`${ctx.server.url}/t/shop/items`, { method: 'PUT', body: 'x' });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
    expect(put.headers['content-type']).toBe('text/plain');
    expect(await put.body.text()).toBe('method PUT not allowed\n');
  });

  it('serves a fresh `fnts init --trigger http` function at /t/<app>/<fn> after deploy', async () => {
    const init = await runCli(['init', 'greeter', '--trigger', 'http'], { cwd: ctx.dir, env: ctx.env });
    expect(init.code, init.stderr).toBe(0);
    const deploy = await runCli(['deploy', '--app', 'shop'], { cwd: join(ctx.dir, 'greeter'), env: ctx.env });
    expect(deploy.code, deploy.stderr).toBe(0);
    const res = await request(`${ctx.server.url}/t/shop/greeter`, { method: 'PUT', body: '{"name":"trigger"}' });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ message: 'Hello trigger' });
  });

  it('matches sources exactly: a trailing slash is another source', async () => {
    const res = await request(`${ctx.server.url}/t/shop/items/`);
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toMatchObject({ message: 'Trigger not found' });
    const noApp = await request(`${ctx.server.url}/t/nosuchapp/items`);
    expect(noApp.statusCode).toBe(404);
    expect(await noApp.body.json()).toMatchObject({ message: 'App not found' });
  });

  it('answers a detached invoke with 202 and still runs the call', async () => {
    const fnDir = join(ctx.dir, 'logger');
    await mkdir(fnDir);
    await writeFile(join(fnDir, 'func.yaml'), 'schema_version: 20180708\nname: logger\nversion: 0.0.1\nruntime: typescript\n');
    await writeFile(
      join(fnDir, 'func.ts'),
      "import { handle } from '@fnts/fdk';\nhandle(async (input: unknown, ctx) => { console.log(`detached-ran ${ctx.callId} ${JSON.stringify(input)}`); return 'ok'; });\n",
    );
    const deploy = await runCli(['deploy', '--app', 'shop'], { cwd: fnDir, env: ctx.env });
    expect(deploy.code, deploy.stderr).toBe(0);
    const res = await request(`${ctx.server.url}/invoke/${await fnId('logger')}`, {
      method: 'POST',
      body: '{"n":1}',
      headers: { 'fn-invoke-type': 'detached', 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(202);
    expect(await res.body.text()).toBe('');
    const callId = String(res.headers['fn-call-id']);
    expect(callId).toMatch(/^[0-9A-Z]{26}$/);
    // The function's own output reaches the server log tagged with the call id; poll for it (bounded).
    const ran = () =>
      ctx.server
        .log()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg?: string; call_id?: string; user_log?: boolean })
        .find((e) => e.user_log && e.msg === `detached-ran ${callId} {"n":1}`);
    for (let i = 0; i < 100 && !ran(); i++) await sleep(100);
    expect(ran()).toMatchObject({ call_id: callId });

    // `fnts logs` shows the same line with its call id.
    const logs = await runCli(['logs', 'shop', 'logger'], { cwd: ctx.dir, env: ctx.env });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(new RegExp(`^\\S+ ${callId} detached-ran ${callId} \\{"n":1\\}$`, 'm'));
  });
});
