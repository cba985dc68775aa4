import { existsSync } from 'node:fs';
import { cp, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Dependencies esbuild cannot bundle: a package holding a compiled addon (a `.node` file, or a `binding.gyp` to
 * build one) loads it from its own directory at run time. Such a package is left out of the bundle and copied into
 * the image's node_modules with everything it depends on.
 */

/** A top-level package in node_modules with a native addon somewhere inside it, and the file that shows it. */
export interface NativePackage {
  name: string;
  /** The package's directory, absolute. */
  dir: string;
  /** The first `.node` or `binding.gyp` file found, relative to the function directory. */
  evidence: string;
}

/** Finds the first native-addon file under `dir` (its nested node_modules included), or undefined. */
async function findAddonFile(dir: string): Promise<string | undefined> {
  if (existsSync(join(dir, 'binding.gyp'))) return join(dir, 'binding.gyp');
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) if (e.isFile() && e.name.endsWith('.node')) return join(dir, e.name);
  for (const e of entries) {
    if (!e.isDirectory() || e.name === '.bin') continue;
    const found = await findAddonFile(join(dir, e.name));
    if (found) return found;
  }
  return undefined;
}

/** The package directories directly in a node_modules folder (`x` and `@scope/y`). */
async function packagesIn(nodeModules: string): Promise<{ name: string; dir: string }[]> {
  if (!existsSync(nodeModules)) return [];
  const out: { name: string; dir: string }[] = [];
  for (const e of await readdir(nodeModules, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const dir = join(nodeModules, e.name);
    if (e.name.startsWith('@')) {
      for (const s of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (s.isDirectory() || s.isSymbolicLink()) out.push({ name: `${e.name}/${s.name}`, dir: join(dir, s.name) });
      }
    } else if (e.isDirectory() || e.isSymbolicLink()) {
      out.push({ name: e.name, dir });
    }
  }
  return out;
}

/** Every top-level package in the function's node_modules that holds a native addon. */
export async function findNativePackages(fnDir: string): Promise<NativePackage[]> {
  const found: NativePackage[] = [];
  for (const pkg of await packagesIn(join(fnDir, 'node_modules'))) {
    const file = await findAddonFile(pkg.dir);
    if (file) found.push({ ...pkg, evidence: relative(fnDir, file) });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** The package name an import path names (`a/b` → `a`, `@s/a/b` → `@s/a`), or undefined for a relative/absolute path. */
export function packageOf(importPath: string): string | undefined {
  if (importPath.startsWith('.') || importPath.startsWith('/') || importPath.startsWith('node:')) return undefined;
  const parts = importPath.split('/');
  return importPath.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

async function dependencyNames(pkgDir: string): Promise<string[]> {
  try {
    const manifest = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    return [...new Set(['dependencies', 'optionalDependencies', 'peerDependencies'].flatMap((k) => Object.keys(manifest[k] ?? {})))];
  } catch {
    return [];
  }
}

/** Resolves a dependency the way Node does: the nearest node_modules/<name> from the package up to the function dir. */
function resolvePackage(fromDir: string, name: string, fnDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) return candidate;
    if (dir === fnDir || !dir.startsWith(fnDir + sep)) return undefined;
    dir = dirname(dir);
  }
}

/**
 * The package directories to copy for some top-level packages: the packages themselves (nested node_modules
 * included) and, transitively, the dependencies Node would find above them. Paths are relative to the function dir.
 */
export async function dependencyClosure(fnDir: string, packageDirs: readonly string[]): Promise<string[]> {
  const visited = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    if (visited.has(dir)) return;
    visited.add(dir);
    for (const dep of await dependencyNames(dir)) {
      const found = resolvePackage(dir, dep, fnDir);
      if (found) await visit(found);
    }
  };
  for (const dir of packageDirs) await visit(dir);
  // A package nested in another one's node_modules comes along with the copy of that one.
  const all = [...visited];
  return all.filter((d) => !all.some((o) => o !== d && d.startsWith(o + sep))).map((d) => relative(fnDir, d)).sort();
}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path)) total += await sizeOf(join(path, e));
  return total;
}

/** Copies the given function-relative package dirs into `outDir`, keeping their paths; returns the bytes copied. */
export async function copyPackages(fnDir: string, relDirs: readonly string[], outDir: string): Promise<number> {
  let bytes = 0;
  for (const rel of relDirs) {
    const to = join(outDir, rel);
    // Linked packages (npm link, workspaces) are copied as their content.
    await cp(join(fnDir, rel), to, { recursive: true, dereference: true });
    bytes += await sizeOf(to);
  }
  return bytes;
}
