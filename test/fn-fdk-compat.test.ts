import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import tar from 'tar-fs';
import { copyPackageTree, docker, runCli, TEST_LABEL, useServerProcess } from './support/harness.js';



describe('an image built with the official Fn Node FDK (@fnproject/fdk)', () => {
  const ctx = useServerProcess();

  it('runs unchanged on fnts through POST /invoke/{fnID}', async () => {
    const fnDir = join(ctx.dir, 'fnfdk');
    await mkdir(join(fnDir, 'node_modules'), { recursive: true });
    await copyPackageTree('@fnproject/fdk', join(fnDir, 'node_modules'));
    await writeFile(
      join(fnDir, 'func.js'),
      "require('@fnproject/fdk').handle((input) => ({ message: 'Hello ' + (input.name || 'World'), fdk: 'fnproject' }))\n",
    );
    await writeFile(join(fnDir, 'Dockerfile'), [
      `FROM fnts/node:${process.versions.node.split('.')[0]}`,
      'WORKDIR /function',
      'COPY func.js /function/',
      'COPY node_modules /function/node_modules/',
      'ENTRYPOINT ["node", "func.js"]',
      '',
    ].join('\n'));
    await writeFile(join(fnDir, 'func.yaml'), 'schema_version: 20180708\nname: fnfdk\nversion: 0.0.1\nruntime: docker\n');

    const deploy = await runCli(['deploy', '--app', 'compat', '--create-app'], { cwd: fnDir, env: ctx.env });
    expect(deploy.code, deploy.stderr).toBe(0);

    const apps = (await (await request(`${ctx.server.url}/v2/apps?name=compat`)).body.json()) as { items: { id: string }[] };
    const appId = apps.items[0]?.id;
    const fns = (await (await request(`${ctx.server.url}/v2/fns?app_id=${appId}&name=fnfdk`)).body.json()) as { items: { id: string }[] };
    const fnId = fns.items[0]?.id;
    expect(fnId).toMatch(/^[0-9A-Z]{26}$/);

    const res = await request(`${ctx.server.url}/invoke/${fnId}`, {
      method: 'POST',
      body: '{"name":"Fn"}',
      headers: { 'content-type': 'application/json' },
    });
    const body = await res.body.text();
    expect(res.statusCode, body).toBe(200);
    expect(JSON.parse(body)).toEqual({ message: 'Hello Fn', fdk: 'fnproject' });
    expect(res.headers['fn-call-id']).toMatch(/^[0-9A-Z]{26}$/);
    expect(String(res.headers['fn-fdk-version'])).toMatch(/^fdk-node\//);
  });
});

describe('an Fn user\'s `fn deploy --app X --create-app --local` of a runtime: docker function with an HTTP trigger', () => {
  const ctx = useServerProcess();
  const ZERO = '0001-01-01T00:00:00.000Z';

  /** One request as the official Fn CLI (0.6.63) sends it: JSON content type always, Go's zero times on writes. */
  const fnCli = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: Record<string, unknown>) => {
    const res = await request(`${ctx.server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'user-agent': 'Fn-go-client/0.6.63' },
      ...(body ? { body: JSON.stringify({ ...body, created_at: ZERO, updated_at: ZERO }) } : {}),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any -- Fn's JSON, read ad hoc
  };

  it('creates the app, the function and the trigger with the CLI\'s requests, serves /t/X/<source>, and deletes them again', async () => {
    const fnDir = join(ctx.dir, 'fnuser');
    await mkdir(join(fnDir, 'node_modules'), { recursive: true });
    await copyPackageTree('@fnproject/fdk', join(fnDir, 'node_modules'));
    await writeFile(join(fnDir, 'func.js'), "require('@fnproject/fdk').handle((input) => ({ hello: input.name || 'trigger' }))\n");
    await writeFile(join(fnDir, 'Dockerfile'), [
      `FROM fnts/node:${process.versions.node.split('.')[0]}`,
      'WORKDIR /function',
      'COPY . /function/',
      'ENTRYPOINT ["node", "func.js"]',
      '',
    ].join('\n'));
    // `fn build --local`: a plain docker build of the directory, tagged as Fn names it.
    const image = `fnuser-${ctx.label}:0.0.2`;
    const stream = await docker.buildImage(tar.pack(fnDir), { t: image, labels: { [TEST_LABEL]: ctx.label } });
    await new Promise((done, fail) => docker.modem.followProgress(stream, (err) => (err ? fail(err) : done(undefined))));

    // fn deploy --create-app: app by name, else create; fn by name, else create; each trigger by name, else create.
    expect((await fnCli('GET', '/v2/apps?name=fnuserapp')).body.items).toEqual([]);
    const app = await fnCli('POST', '/v2/apps', { name: 'fnuserapp', config: null, annotations: null });
    expect(app.status).toBe(200);
    expect((await fnCli('GET', `/v2/fns?app_id=${app.body.id}&name=fnuser`)).body.items).toEqual([]);
    const fn = await fnCli('POST', '/v2/fns', { app_id: app.body.id, name: 'fnuser', image, memory: 128, timeout: 30, idle_timeout: 30, config: null, annotations: null });
    expect(fn.status).toBe(200);
    expect((await fnCli('GET', `/v2/triggers?app_id=${app.body.id}&fn_id=${fn.body.id}&name=hello-trigger`)).body.items).toEqual([]);
    const trigger = await fnCli('POST', '/v2/triggers', { app_id: app.body.id, fn_id: fn.body.id, name: 'hello-trigger', type: 'http', source: '/hello', annotations: null });
    expect(trigger.status).toBe(200);
    expect(trigger.body.annotations['fnproject.io/trigger/httpEndpoint']).toBe(`${ctx.server.url}/t/fnuserapp/hello`);

    const res = await request(`${ctx.server.url}/t/fnuserapp/hello`, { method: 'POST', body: '{"name":"fn"}', headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    expect(res.statusCode, text).toBe(200);
    expect(JSON.parse(text)).toEqual({ hello: 'fn' });

    // A second deploy finds everything by name and updates the function in place.
    const again = await fnCli('GET', `/v2/fns?app_id=${app.body.id}&name=fnuser`);
    const update = await fnCli('PUT', `/v2/fns/${fn.body.id}`, { id: fn.body.id, app_id: app.body.id, name: 'fnuser', image, memory: 256 });
    expect([again.body.items.length, update.status, update.body.memory]).toEqual([1, 200, 256]);

    expect((await fnCli('DELETE', `/v2/triggers/${trigger.body.id}`)).status).toBe(204);
    expect((await fnCli('DELETE', `/v2/fns/${fn.body.id}`)).status).toBe(204);
    expect((await fnCli('DELETE', `/v2/apps/${app.body.id}`)).status).toBe(204);
  });
});
