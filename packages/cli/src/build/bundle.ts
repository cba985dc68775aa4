import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildFailure, type Plugin } from 'esbuild';
import { cliErrors } from '../errors.js';
import type { Runtime } from '../funcfile.js';
import { findNativePackages, packageOf, type NativePackage } from './native-addons.js';

/** Source files tried, in order, as the function's entry point, per runtime. */
export const ENTRY_CANDIDATES: Readonly<Record<Exclude<Runtime, 'docker'>, readonly string[]>> = {
  typescript: ['func.ts', 'func.mts', 'func.js', 'func.mjs', 'func.cjs'],
  node: ['func.js', 'func.mjs', 'func.cjs'],
};

export function findEntry(dir: string, runtime: Exclude<Runtime, 'docker'> = 'typescript'): string {
  const candidates = ENTRY_CANDIDATES[runtime];
  const entry = candidates.map((f) => join(dir, f)).find((p) => existsSync(p));
  if (entry) return entry;
  if (runtime === 'node' && existsSync(join(dir, 'func.ts'))) {
    throw cliErrors.build(`runtime node builds func.js, but ${dir} has func.ts`, 'set `runtime: typescript` in func.yaml');
  }
  throw cliErrors.build(`no function source in ${dir} (looked for ${candidates.join(', ')})`,
    `create ${candidates[0]}, or run \`fnts init --runtime ${runtime}\` in an empty directory`);
}

/**
 * The FDK that ships with this CLI, used when the function's own node_modules has none. (require.resolve rather than
 * import.meta.resolve: the bin is a CommonJS bundle, and the FDK's only export condition is `default`, which both match.)
 */
function bundledFdk(): string {
  return createRequire(import.meta.url).resolve('@fnts/fdk');
}

export interface Bundle {
  file: string;
  bytes: number;
  /** Native-addon packages the function imports: left out of the bundle, to be copied into the image. */
  external: NativePackage[];
}

/** Marks imports of native-addon packages external, and records which ones the function actually reaches. */
function nativeExternals(natives: readonly NativePackage[], used: Set<NativePackage>): Plugin {
  const byName = new Map(natives.map((n) => [n.name, n]));
  return {
    name: 'fnts-native-addons',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const pkg = byName.get(packageOf(args.path) ?? '');
        if (!pkg) return undefined;
        used.add(pkg);
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * Bundles the function, its dependencies and the FDK into one ES module (`func.mjs`) with a source map, so the image
 * needs no node_modules and stack traces point at the user's lines. Packages with native addons stay external.
 */
export async function bundleFunction(dir: string, outDir: string, runtime: Exclude<Runtime, 'docker'> = 'typescript'): Promise<Bundle> {
  const entry = findEntry(dir, runtime);
  const outfile = join(outDir, 'func.mjs');
  const ownFdk = existsSync(join(dir, 'node_modules', '@fnts', 'fdk'));
  const natives = await findNativePackages(dir);
  const used = new Set<NativePackage>();
  try {
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      sourcemap: 'linked',
      logLevel: 'silent',
      absWorkingDir: dir,
      alias: ownFdk ? {} : { '@fnts/fdk': bundledFdk() },
      plugins: natives.length > 0 ? [nativeExternals(natives, used)] : [],
      // Bundled CommonJS dependencies may still call require() for Node built-ins and external packages.
      banner: { js: "import { createRequire as __fntsCreateRequire } from 'node:module'; const require = __fntsCreateRequire(import.meta.url);" },
    });
    return { file: outfile, bytes: (await stat(outfile)).size, external: [...used].sort((a, b) => a.name.localeCompare(b.name)) };
  } catch (err) {
    const failure = err as BuildFailure;
    const first = failure.errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw cliErrors.build(`could not bundle ${entry}: ${where}${first?.text ?? failure.message}`,
      'fix the error above; missing packages need `npm install` in the function directory');
  }
}
