import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The FDK as npm tarballs carried by this CLI (made by scripts/pack-fdk.mjs at `npm run build`): a new function's
 * package.json names them as `file:` dependencies, so `npm install <any package>` works in it although no registry
 * holds @fnts/*.
 */

/** Where `fnts init` puts the tarballs, relative to the function directory. */
export const PACKS_DIR = '.fnts';

interface PackEntry {
  version: string;
  file: string;
}

export interface FdkPacks {
  /** The directory holding the tarballs and packs.json. */
  dir: string;
  fdk: PackEntry;
  /** The FDK imports @fnts/api's contract names at run time. */
  api: PackEntry;
  /** Version ranges of the CLI's own typescript and @types/node, for the function's devDependencies. */
  typescript: string;
  nodeTypes: string;
}

/** The CLI package's root: this module runs from src/ (tests), dist/ or the bundled dist/bin/, all below it. */
function cliRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@fnts/cli') return dir;
    dir = dirname(dir);
  }
  return undefined;
}

/** The packed FDK, or undefined when this CLI was not built with one (run from source without `npm run build`). */
export function findFdkPacks(): FdkPacks | undefined {
  const root = cliRoot();
  if (!root) return undefined;
  const dir = join(root, 'dist', 'packs');
  const index = join(dir, 'packs.json');
  if (!existsSync(index)) return undefined;
  const packs = JSON.parse(readFileSync(index, 'utf8')) as Record<string, PackEntry | undefined>;
  const fdk = packs['@fnts/fdk'];
  const api = packs['@fnts/api'];
  if (!fdk || !api || !existsSync(join(dir, fdk.file)) || !existsSync(join(dir, api.file))) return undefined;
  const deps = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
  return { dir, fdk, api, typescript: deps.typescript ?? '^5', nodeTypes: deps['@types/node'] ?? '^20' };
}

/** Copies the tarballs into `<fnDir>/.fnts/`; returns the `file:` specs package.json names them by. */
export async function copyFdkPacks(packs: FdkPacks, fnDir: string): Promise<{ fdk: string; api: string }> {
  await mkdir(join(fnDir, PACKS_DIR), { recursive: true });
  for (const p of [packs.fdk, packs.api]) await copyFile(join(packs.dir, p.file), join(fnDir, PACKS_DIR, p.file));
  return { fdk: `file:${PACKS_DIR}/${packs.fdk.file}`, api: `file:${PACKS_DIR}/${packs.api.file}` };
}
