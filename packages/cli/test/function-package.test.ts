// A function made by `fnts init` is an ordinary npm package: `npm install <package>` works in it with no registry
// holding @fnts/* (the FDK comes from the tarballs init copied), `npx tsc --noEmit` checks it with @types/node, and
// `fnts build`'s bundler and type check use the function's own node_modules. Real npm and tsc, offline.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../src/build/bundle.js';
import { typecheckFunction } from '../src/build/typecheck.js';
import { initCommand } from '../src/commands/init/init.js';
import { CliError } from '../src/errors.js';
import { captureContext, tempDirPerTest } from './support/harness.js';
import { ensureFdkPacks, npm, tinyPackage, useRegistryStandIns, type FunctionManifest } from './support/npm-offline.js';

const exec = promisify(execFile);
const tmp = tempDirPerTest();

const FUNC_TS = `import { handle } from '@fnts/fdk';
import { greet } from 'tiny-greet';

handle(async (input: { name?: string }) => ({ message: greet(input.name ?? 'World'), bytes: Buffer.byteLength('x') }));
`;

beforeAll(ensureFdkPacks);

describe('a function made by fnts init', () => {
  it('installs an npm package offline, type-checks with tsc and fnts, and bundles with its own node_modules', async () => {
    const cache = join(tmp.path, 'npm-cache');
    const cli = captureContext('http://127.0.0.1:8080', tmp.path);
    const { dir } = await initCommand({ dir: 'clock' }, cli.ctx);
    expect(cli.stderr()).toContain('npm install <package>');

    const manifest = await useRegistryStandIns(dir, tmp.path, cache);
    expect(manifest.dependencies?.['@fnts/fdk']).toMatch(/^file:\.fnts\/fnts-fdk-[\d.]+\.tgz$/);
    expect(manifest.overrides?.['@fnts/api']).toMatch(/^file:\.fnts\/fnts-api-[\d.]+\.tgz$/);
    expect(Object.keys(manifest.devDependencies ?? {}).sort()).toEqual(['@types/node', 'typescript']);
    for (const spec of [manifest.dependencies?.['@fnts/fdk'], manifest.overrides?.['@fnts/api']]) {
      expect(existsSync(join(dir, (spec ?? '').slice('file:'.length)))).toBe(true);
    }
    expect(JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8'))).toMatchObject({
      compilerOptions: { strict: true, types: ['node'], module: 'NodeNext' },
    });

    const tiny = await tinyPackage(tmp.path, cache);
    await npm(['install', tiny], dir, cache);
    const after = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as FunctionManifest;
    expect(Object.keys(after.dependencies ?? {}).sort()).toEqual(['@fnts/fdk', 'tiny-greet']);
    for (const p of ['@fnts/fdk', '@fnts/api', 'tiny-greet', '@types/node']) expect(existsSync(join(dir, 'node_modules', p, 'package.json'))).toBe(true);

    await writeFile(join(dir, 'func.ts'), FUNC_TS);
    await exec('npx', ['--no-install', 'tsc', '--noEmit'], { cwd: dir });
    await expect(typecheckFunction(dir)).resolves.toEqual({ files: 1 });

    const out = join(tmp.path, 'bundle');
    await mkdir(out);
    const bundle = await bundleFunction(dir, out);
    const code = await readFile(bundle.file, 'utf8');
    expect(code).toContain('Howdy ');
    expect(code).toContain('node_modules/@fnts/fdk/'); // the function's own FDK, not the CLI's

    await writeFile(join(dir, 'func.ts'), `${FUNC_TS}const wrong: number = greet('x');\n`);
    const tsc = await exec('npx', ['--no-install', 'tsc', '--noEmit'], { cwd: dir }).catch((err: { code: number; stdout: string }) => err);
    expect(tsc).toMatchObject({ code: 2, stdout: expect.stringContaining('func.ts(5,7): error TS2322') });
    const failure = await typecheckFunction(dir).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(CliError);
    expect(failure).toMatchObject({ code: 'FNTS_ERR_TYPECHECK' });
    expect((failure as CliError).message).toContain("func.ts:5:7 - error TS2322: Type 'string' is not assignable to type 'number'.");
  }, 300_000); // several real npm runs: about a minute on 2 busy cores
});
