// `fnts build` and `fnts deploy` type-check a TypeScript function first: a type error stops them with file:line:col
// before anything is built or deployed, --no-typecheck skips the check, and a fresh `fnts init` directory checks
// without `npm install` (the FDK and @types/node come from the CLI). Real compiler, real Docker builds.
import { execFile } from 'node:child_process';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCommand } from '../src/commands/init/init.js';
import { deployCommand } from '../src/commands/deploy/deploy.js';
import { CliError } from '../src/errors.js';
import { buildProgram } from '../src/program.js';
import { docker, imagesPerFile } from './support/docker.js';
import { captureContext, serverPerTest, tempDirPerTest, type Captured } from './support/harness.js';
import { CLI_ROOT, ensureFdkPacks } from './support/npm-offline.js';

const exec = promisify(execFile);
const server = serverPerTest();
const tmp = tempDirPerTest();
const { run, labels } = imagesPerFile();

/** The whole command line as a user types it, with the output captured. */
function program(cli: Captured): Command {
  return buildProgram({
    context: () => cli.ctx,
    readStdin: async () => Buffer.alloc(0),
    openStdin: () => ({ input: (async function* () {})(), terminal: false }),
    interruption: () => ({ signal: new AbortController().signal, release: () => undefined }),
    setExitCode: () => undefined,
  });
}

async function freshFunction(name: string, parent: string): Promise<string> {
  return (await initCommand({ dir: join(parent, name), name }, captureContext(server.url, tmp.path).ctx)).dir;
}

/** A function as `fnts init` makes it (never `npm install`ed), with a type error added at line 10, column 7. */
async function brokenFunction(name: string, parent = tmp.path): Promise<string> {
  const dir = await freshFunction(name, parent);
  await appendFile(join(dir, 'func.ts'), "\nconst bad: number = 'x';\n");
  return dir;
}

const imageExists = (image: string) => docker.getImage(image).inspect().then(() => true, () => false);
const TYPE_ERROR = "func.ts:10:7 - error TS2322: Type 'string' is not assignable to type 'number'.";

beforeAll(ensureFdkPacks);

describe('type-checking before a build', () => {
  it('stops fnts build on a type error with file:line:col and builds nothing; --no-typecheck builds; the fixed function checks and builds', async () => {
    const name = `tc-build-${run}`;
    const dir = await brokenFunction(name);
    const cli = server.cli(dir, { imageLabels: labels });

    const err = await program(cli).parseAsync(['build'], { from: 'user' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'FNTS_ERR_TYPECHECK', exitCode: 1, hint: expect.stringContaining('--no-typecheck') });
    expect((err as CliError).message).toBe(`the function in ${dir} has 1 type error(s):\n  ${TYPE_ERROR}`);
    expect(await imageExists(`${name}:0.0.1`)).toBe(false);

    cli.clear();
    await program(cli).parseAsync(['build', '--no-typecheck'], { from: 'user' });
    expect(cli.stderr()).not.toContain('Type-checked');
    expect(cli.stderr()).toContain(`Built ${name}:0.0.1`);
    expect(await imageExists(`${name}:0.0.1`)).toBe(true);

    // Fixed, it checks with the FDK and @types/node this CLI carries: the directory has no node_modules.
    const source = await readFile(join(dir, 'func.ts'), 'utf8');
    await writeFile(join(dir, 'func.ts'), source.replace("const bad: number = 'x';", "export const size: number = Buffer.byteLength('x');"));
    cli.clear();
    await program(cli).parseAsync(['build'], { from: 'user' });
    expect(cli.stderr()).toContain('Type-checked 1 file\n');
    expect(cli.stderr()).toContain(`Built ${name}:0.0.1`);
  });

  it('stops fnts deploy before the build, leaving func.yaml and the server alone', async () => {
    const dir = await brokenFunction(`tc-deploy-${run}`);
    const before = await readFile(join(dir, 'func.yaml'), 'utf8');
    const err = await deployCommand({ app: 'shop', createApp: true }, server.cli(dir, { imageLabels: labels }).ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FNTS_ERR_TYPECHECK', message: expect.stringContaining(TYPE_ERROR) });
    expect(await readFile(join(dir, 'func.yaml'), 'utf8')).toBe(before);
    expect(server.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  });

  it('with deploy --all, checks every function before building any', async () => {
    const root = join(tmp.path, 'app');
    await mkdir(root);
    await writeFile(join(root, 'app.yaml'), 'name: shop\n');
    const good = `tc-all-a-${run}`;
    const goodDir = await freshFunction(good, root);
    await brokenFunction(`tc-all-b-${run}`, root);
    const err = await deployCommand({ all: true, createApp: true }, server.cli(root, { imageLabels: labels }).ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FNTS_ERR_TYPECHECK', message: expect.stringContaining(`tc-all-b-${run} has 1 type error(s)`) });
    expect(await readFile(join(goodDir, 'func.yaml'), 'utf8')).toContain('version: 0.0.1\n');
    expect(await imageExists(`${good}:0.0.2`)).toBe(false);
    expect(server.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  });

  it('prints the errors and a hint and exits 1 as a process', async () => {
    const dir = await brokenFunction(`tc-process-${run}`);
    const bin = join(CLI_ROOT, 'dist', 'bin', 'fnts');
    const result = await exec(bin, ['build'], { cwd: dir }).catch((e: { code: number; stderr: string }) => e);
    expect(result).toMatchObject({ code: 1 });
    expect((result as { stderr: string }).stderr).toContain(`has 1 type error(s):\n  ${TYPE_ERROR}\nHint: fix the errors above, or build without the check with --no-typecheck\n`);
  });
});
