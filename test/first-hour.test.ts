// A function author's first hour, played with the real `fnts` CLI against a real server process and Docker:
// init → npm install a package → a type error stops the deploy → fix → deploy → invoke → the function throws →
// the failed call's id and message → that call's output → the call history. npm runs offline: the "registry"
// packages come from local tarballs (packages/cli/test/support/npm-offline.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureFdkPacks, npm, tinyPackage, useRegistryStandIns } from '../packages/cli/test/support/npm-offline.js';
import { runCli, useServerProcess, type CliResult } from './support/harness.js';

const HANDLER = `import { handle } from '@fnts/fdk';
import { greet } from 'tiny-greet';

handle(async (input: { name?: string; items?: string[] }) => {
  console.log('checking the order');
  if (input.items?.length === 0) throw new Error('the order has no items');
  return { message: greet(input.name ?? 'World') };
});
`;

describe("a function author's first hour", () => {
  const ctx = useServerProcess();
  const fnts = (args: string[], dir: string, input?: string): Promise<CliResult> =>
    runCli(args, { cwd: dir, env: ctx.env, ...(input !== undefined ? { input } : {}) });

  it('init, a package, a caught type error, deploy, invoke, a failure traced to its output, the call history', async () => {
    await ensureFdkPacks();
    const init = await fnts(['init', 'clock'], ctx.dir);
    expect(init.code, init.stderr).toBe(0);
    const dir = join(ctx.dir, 'clock');

    // npm install <package> works in the new function although no registry holds @fnts/*.
    const cache = join(ctx.dir, 'npm-cache');
    await useRegistryStandIns(dir, ctx.dir, cache);
    await npm(['install', await tinyPackage(ctx.dir, cache)], dir, cache);

    // A type error stops the deploy before anything is built or stored.
    await writeFile(join(dir, 'func.ts'), `${HANDLER}const port: number = greet('x');\n`);
    const refused = await fnts(['deploy', '--app', 'first', '--create-app'], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("func.ts:9:7 - error TS2322: Type 'string' is not assignable to type 'number'.");
    expect((await fnts(['list', 'apps'], dir)).stdout).not.toContain('first');
    expect(await readFile(join(dir, 'func.yaml'), 'utf8')).toContain('version: 0.0.1');

    await writeFile(join(dir, 'func.ts'), HANDLER);
    const deploy = await fnts(['deploy', '--app', 'first', '--create-app'], dir);
    expect(deploy.code, deploy.stderr).toBe(0);
    const ok = await fnts(['invoke', 'first', 'clock', '--content-type', 'application/json'], dir, '{"name":"Ada"}');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('{"message":"Howdy Ada"}\n');

    // The function throws: the caller sees why, the call id, and the command that shows that call's output.
    const failed = await fnts(['invoke', 'first', 'clock', '--content-type', 'application/json'], dir, '{"items":[]}');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('error: Error: the order has no items');
    const callId = /call id: (\w+)/.exec(failed.stderr)?.[1] ?? '';
    expect(callId).toMatch(/^[0-9A-Z]{26}$/);
    expect(failed.stderr).toContain(`see its output: fnts get logs first clock ${callId}`);

    // Output arrives through Docker a moment after the answer: ask until it is there (bounded).
    let logs: CliResult | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      logs = await fnts(['get', 'logs', 'first', 'clock', callId], dir);
      if (logs.stdout.includes('the order has no items')) break;
    }
    expect(logs?.code, logs?.stderr).toBe(0);
    expect(logs?.stdout).toContain('checking the order\n');
    expect(logs?.stdout).toContain('the order has no items');

    const list = await fnts(['list', 'calls', 'first', 'clock', '--output', 'json'], dir);
    expect(list.code, list.stderr).toBe(0);
    const calls = JSON.parse(list.stdout) as { id: string; status: string; error?: string }[];
    expect(calls.map((c) => c.status)).toEqual(['error', 'success']);
    expect(calls[0]).toMatchObject({ id: callId, error: expect.stringContaining('the order has no items') });
  }, 300_000); // real npm, a type check, an image build and several CLI processes on two busy cores
});
