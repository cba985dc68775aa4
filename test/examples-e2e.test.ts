import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, useServerProcess } from './support/harness.js';

/** Every example users may copy deploys with the real CLI and answers through the real server. */
describe('examples/', () => {
  const ctx = useServerProcess();

  /** Copies an example out of the repo (deploy bumps its version) and deploys it to app "examples". */
  const deploy = async (example: string): Promise<string> => {
    const fnDir = join(ctx.dir, example);
    await cp(join(REPO_ROOT, 'examples', example), fnDir, { recursive: true });
    const res = await runCli(['deploy', '--app', 'examples', '--create-app'], { cwd: fnDir, env: ctx.env });
    expect(res.code, res.stderr).toBe(0);
    return fnDir;
  };
  const invoke = async (fnDir: string, fn: string, input: string) => {
    const res = await runCli(['invoke', 'examples', fn, '--content-type', 'application/json'], { cwd: fnDir, env: ctx.env, input });
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as unknown;
  };

  it('hello-ts answers', async () => {
    const fnDir = await deploy('hello-ts');
    expect(await invoke(fnDir, 'hello', '{"name":"ts"}')).toEqual({ message: 'Hello ts' });
  });

  it('hello-js answers with its config', async () => {
    const fnDir = await deploy('hello-js');
    expect(await invoke(fnDir, 'hello-js', '{"name":"js"}')).toEqual({ message: 'Hello js' });
  });

  it('docker (its own Dockerfile) answers', async () => {
    const fnDir = await deploy('docker');
    expect(await invoke(fnDir, 'hello-docker', '{"name":"docker"}')).toEqual({ message: 'Hello docker', runtime: 'docker' });
  });

  it('http-trigger answers at its trigger with its status and headers, and through /invoke as a POST', async () => {
    const fnDir = await deploy('http-trigger');
    const res = await request(`${ctx.server.url}/t/examples/items`, { method: 'POST', body: '{"name":"cup"}' });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe('/items/cup');
    expect(await res.body.json()).toEqual({ created: 'cup' });
    // An /invoke call carries no Fn-Http-Method: the example takes it as the POST it is, not as "method null".
    expect(await invoke(fnDir, 'items', '{"name":"pen"}')).toEqual({ created: 'pen' });
  });

  it('stream-consumer processes what is put on its stream', async () => {
    const created = await request(`${ctx.server.url}/v2/streams`, {
      method: 'POST', body: JSON.stringify({ name: 'orders', partitions: 2 }), headers: { 'content-type': 'application/json' },
    });
    expect(created.statusCode, await created.body.text()).toBe(200);
    await deploy('stream-consumer');
    const put = await runCli(['stream', 'put', 'orders', '--key', 'c7'], {
      cwd: ctx.dir, env: ctx.env, input: '{"id":"a1","amount":3}\n{"id":"a2","amount":5}\n',
    });
    expect(put.code, put.stderr).toBe(0);
    const logged = async () => {
      const r = await runCli(['logs', 'examples', 'orders'], { cwd: ctx.dir, env: ctx.env });
      return r.stdout;
    };
    let out = '';
    for (let i = 0; i < 60 && !/order a2: 5/.test(out); i++) {
      await sleep(250);
      out = await logged();
    }
    expect(out).toMatch(/order a1: 3 \(orders\/\d\/0,/);
    expect(out).toMatch(/order a2: 5 \(orders\/\d\/1,/);
  });
});
