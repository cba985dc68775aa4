import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containersOf, runCli, useServerProcess } from './support/harness.js';

describe('init → deploy → invoke with the real CLI and server processes', () => {
  const ctx = useServerProcess();

  it('creates a hello function that deploys, answers, and reuses its hot container', async () => {
    const init = await runCli(['init', 'hello', '--runtime', 'typescript'], { cwd: ctx.dir, env: ctx.env });
    expect(init.code, init.stderr).toBe(0);
    const fnDir = join(ctx.dir, 'hello');
    expect(await readFile(join(fnDir, 'func.yaml'), 'utf8')).toMatch(/schema_version: 20180708\nname: hello\nversion: 0.0.1/);

    const deploy = await runCli(['deploy', '--app', 'e2e', '--create-app'], { cwd: fnDir, env: ctx.env });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain('Deployed hello 0.0.2 to app e2e: image e2e/hello:0.0.2');
    // The version is bumped only after the build succeeded, and comments survive the edit.
    const funcYaml = await readFile(join(fnDir, 'func.yaml'), 'utf8');
    expect(funcYaml).toContain('version: 0.0.2');
    expect(funcYaml).toContain('# Memory in MiB');

    const first = await runCli(['invoke', 'e2e', 'hello'], { cwd: fnDir, env: ctx.env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('{"message":"Hello World"}\n');
    const afterFirst = await containersOf(ctx.label);
    expect(afterFirst).toHaveLength(1);

    const second = await runCli(['invoke', 'e2e', 'hello'], { cwd: fnDir, env: ctx.env, input: '{"name":"fnts"}' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe('{"message":"Hello fnts"}\n');
    const afterSecond = await containersOf(ctx.label);
    expect(afterSecond.map((c) => c.Id)).toEqual(afterFirst.map((c) => c.Id));
    expect(afterSecond[0]?.State).toBe('running');
  });

  it('removes every container it started when the server shuts down', async () => {
    expect((await containersOf(ctx.label)).length).toBeGreaterThan(0);
    expect(await ctx.server.stop()).toBe(0);
    expect(await containersOf(ctx.label)).toHaveLength(0);
  });
});
