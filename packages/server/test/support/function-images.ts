// The server runs function images but never builds them: `fnts build` does. The server's container tests build
// theirs with that same builder, taken from the CLI's source (so no CLI build is needed). This file is the only
// place a server test depends on the CLI. The image bundles the FDK's build, so that one must exist (`npx tsc -b`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { buildFunctionImage } from '../../../cli/src/build/function-image.js';
import type { FuncFile } from '../../../cli/src/funcfile.js';

/** Writes `source` as `<dir>/func.ts` and builds it into a function image named `name`; returns the image's name. */
export async function buildTypeScriptImage(
  docker: Docker,
  opts: { dir: string; name: string; source: string; labels: Record<string, string> },
): Promise<string> {
  await mkdir(opts.dir, { recursive: true });
  await writeFile(join(opts.dir, 'func.ts'), opts.source);
  const func: FuncFile = { schema_version: 20180708, name: opts.name, version: '0.0.1', runtime: 'typescript' };
  return (await buildFunctionImage(docker, { dir: opts.dir, func, version: func.version, labels: opts.labels })).image;
}
