import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, useServerProcess } from './support/harness.js';


/** Copies an installed package and, recursively, its dependencies into a node_modules dir. */
async function copyPackageTree(name: string, into: string, from = REPO_ROOT, seen = new Set<string>()): Promise<void> {
  if (seen.has(name)) return;
  seen.add(name);
  const pkgJson = createRequire(join(from, 'package.json')).resolve(`${name}/package.json`);
  const pkgDir = dirname(pkgJson);
  await cp(pkgDir, join(into, name), { recursive: true, dereference: true });
  const deps = (JSON.parse(await readFile(pkgJson, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
  for (const dep of Object.keys(deps)) await copyPackageTree(dep, into, pkgDir, seen);
}

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
