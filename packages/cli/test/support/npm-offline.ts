import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Real npm, with no registry: every package an install needs comes from a local tarball or directory, and the
 * registry setting points at a closed loopback port so a lookup that slipped through fails instead of going out.
 */

const exec = promisify(execFile);
const require = createRequire(import.meta.url);

export const CLI_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Runs npm offline in `cwd` with its own cache; rejects with npm's output when it fails. */
export async function npm(args: string[], cwd: string, cache: string): Promise<string> {
  const env = {
    ...process.env,
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_loglevel: 'error',
  };
  const { stdout } = await exec('npm', [...args, '--offline', '--cache', cache], { cwd, env, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** `npm pack` of `dir` into `dest`; answers the tarball's path. */
export async function pack(dir: string, dest: string, cache: string): Promise<string> {
  await mkdir(dest, { recursive: true });
  const out = JSON.parse(await npm(['pack', dir, '--pack-destination', dest, '--json'], dest, cache)) as { filename: string }[];
  return join(dest, out[0]?.filename ?? '');
}

/** The directory of an installed third-party package, as the repo's node_modules holds it. */
export function installedPackage(name: string, from = CLI_ROOT): string {
  // Looked up the way Node does, not resolved: some packages' "exports" hide their package.json.
  const dirs = createRequire(join(from, 'package.json')).resolve.paths(name) ?? [];
  const found = dirs.map((d) => join(d, name)).find((d) => existsSync(join(d, 'package.json')));
  if (!found) throw new Error(`${name} is not installed where ${from} can see it`);
  return found;
}

/**
 * Tarballs standing in for the registry packages an FDK function needs: typebox (for @fnts/api), @types/node and its
 * undici-types; made from the repo's own node_modules.
 */
export async function registryStandIns(dest: string, cache: string): Promise<Record<'typebox' | '@types/node' | 'undici-types', string>> {
  const nodeTypes = installedPackage('@types/node');
  return {
    typebox: await pack(installedPackage('typebox', join(REPO_ROOT, 'packages', 'api')), dest, cache),
    '@types/node': await pack(nodeTypes, dest, cache),
    'undici-types': await pack(installedPackage('undici-types', nodeTypes), dest, cache),
  };
}

/** The CLI's packed FDK (dist/packs), made by its build script when this checkout has not been built with it. */
export async function ensureFdkPacks(): Promise<void> {
  if (existsSync(join(CLI_ROOT, 'dist', 'packs', 'packs.json'))) return;
  await exec(process.execPath, [join(CLI_ROOT, 'scripts', 'pack-fdk.mjs')], { cwd: CLI_ROOT });
}

/** The repo's TypeScript compiler, for checking a project that does not install its own. */
export const TSC = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

/** The parts of a function's package.json the offline installs rewrite and check. */
export interface FunctionManifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
}

/** A small package of the author's choice (`greet(name)` → `Howdy <name>`), packed as a registry would serve it. */
export async function tinyPackage(root: string, cache: string): Promise<string> {
  const dir = join(root, 'tiny-greet');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({
    name: 'tiny-greet', version: '1.2.3', type: 'module', main: './index.js', types: './index.d.ts',
  }));
  await writeFile(join(dir, 'index.js'), 'export function greet(name) { return `Howdy ${name}`; }\n');
  await writeFile(join(dir, 'index.d.ts'), 'export declare function greet(name: string): string;\n');
  return pack(dir, join(root, 'packs'), cache);
}

/**
 * Points the registry packages of a function made by `fnts init` (typebox under @fnts/api, @types/node, the
 * compiler) at local stand-ins made under `root`, so `npm install` in `dir` needs no registry. Answers the manifest
 * as `init` wrote it.
 */
export async function useRegistryStandIns(dir: string, root: string, cache: string): Promise<FunctionManifest> {
  const file = join(dir, 'package.json');
  const written = JSON.parse(await readFile(file, 'utf8')) as FunctionManifest;
  const standIns = await registryStandIns(join(root, 'registry'), cache);
  await writeFile(file, JSON.stringify({
    ...written,
    devDependencies: { '@types/node': `file:${standIns['@types/node']}`, typescript: `file:${installedPackage('typescript')}` },
    overrides: { ...written.overrides, typebox: `file:${standIns.typebox}`, 'undici-types': `file:${standIns['undici-types']}` },
  }, null, 2));
  return written;
}
