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
import { ensureFdkPacks, installedPackage, npm, pack, registryStandIns } from './support/npm-offline.js';

const exec = promisify(execFile);
const tmp = tempDirPerTest();

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
}

/** A tiny package of the user's choice, packed as a registry would serve it. */
async function tinyPackage(root: string, cache: string): Promise<string> {
  const dir = join(root, 'tiny-greet');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({
    name: 'tiny-greet', version: '1.2.3', type: 'module', main: './index.js', types: './index.d.ts',
  }));
  await writeFile(join(dir, 'index.js'), 'export function greet(name) { return `Howdy ${name}`; }\n');
  await writeFile(join(dir, 'index.d.ts'), 'export declare function greet(name: string): string;\n');
  return pack(dir, join(root, 'packs'), cache);
}

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

    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
    expect(manifest.dependencies?.['@fnts/fdk']).toMatch(/^file:\.fnts\/fnts-fdk-[\d.]+\.tgz$/);
    expect(manifest.overrides?.['@fnts/api']).toMatch(/^file:\.fnts\/fnts-api-[\d.]+\.tgz$/);
    expect(Object.keys(manifest.devDependencies ?? {}).sort()).toEqual(['@types/node', 'typescript']);
    for (const spec of [manifest.dependencies?.['@fnts/fdk'], manifest.overrides?.['@fnts/api']]) {
      expect(existsSync(join(dir, (spec ?? '').slice('file:'.length)))).toBe(true);
    }
    expect(JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8'))).toMatchObject({
      compilerOptions: { strict: true, types: ['node'], module: 'NodeNext' },
    });

    // What a registry would serve, from local files: typebox (under @fnts/api), @types/node, and the compiler.
    const standIns = await registryStandIns(join(tmp.path, 'registry'), cache);
    manifest.devDependencies = { '@types/node': `file:${standIns['@types/node']}`, typescript: `file:${installedPackage('typescript')}` };
    manifest.overrides = { ...manifest.overrides, typebox: `file:${standIns.typebox}`, 'undici-types': `file:${standIns['undici-types']}` };
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));

    const tiny = await tinyPackage(tmp.path, cache);
    await npm(['install', tiny], dir, cache);
    const after = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
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
