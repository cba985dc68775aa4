import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
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
