import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildFailure } from 'esbuild';
import { cliErrors } from '../errors.js';

/** Source files tried, in order, as the function's entry point. */
export const ENTRY_CANDIDATES = ['func.ts', 'func.mts', 'func.js', 'func.mjs', 'func.cjs'];

export function findEntry(dir: string): string {
  const entry = ENTRY_CANDIDATES.map((f) => join(dir, f)).find((p) => existsSync(p));
  if (!entry) {
    throw cliErrors.build(`no function source in ${dir} (looked for ${ENTRY_CANDIDATES.join(', ')})`,
      'create func.ts, or run `fnts init` in an empty directory');
  }
  return entry;
}

/** The FDK that ships with this CLI, used when the function's own node_modules has none. */
function bundledFdk(): string {
  return fileURLToPath(import.meta.resolve('@fnts/fdk'));
}

/**
 * Bundles the function, its dependencies and the FDK into one ES module (`func.mjs`) with a source map,
 * so the image needs no node_modules and stack traces point at the user's lines.
 */
export async function bundleFunction(dir: string, outDir: string): Promise<{ file: string; bytes: number }> {
  const entry = findEntry(dir);
  const outfile = join(outDir, 'func.mjs');
  const ownFdk = existsSync(join(dir, 'node_modules', '@fnts', 'fdk'));
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
      // Bundled CommonJS dependencies may still call require() for Node built-ins.
      banner: { js: "import { createRequire as __fntsCreateRequire } from 'node:module'; const require = __fntsCreateRequire(import.meta.url);" },
    });
    return { file: outfile, bytes: (await stat(outfile)).size };
  } catch (err) {
    const failure = err as BuildFailure;
    const first = failure.errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw cliErrors.build(`could not bundle ${entry}: ${where}${first?.text ?? failure.message}`,
      'fix the error above; missing packages need `npm install` in the function directory');
  }
}
