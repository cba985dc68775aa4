import { resolve } from 'node:path';
import { buildFunctionImage, type BuiltImage } from '../build/function-image.js';
import { dockerClient } from '../build/docker-build.js';
import { loadFuncFile, type FuncFile } from '../funcfile.js';
import type { CommandContext } from './context.js';

export interface BuildOptions {
  dir?: string;
  noCache?: boolean;
}

/** Builds the image for a function directory at a given version, reporting steps on stderr. */
export async function buildAt(dir: string, func: FuncFile, version: string, noCache: boolean, ctx: CommandContext): Promise<BuiltImage> {
  const docker = dockerClient(ctx.settings.dockerSocketPath);
  return buildFunctionImage(docker, {
    dir,
    func,
    version,
    labels: ctx.settings.imageLabels,
    noCache,
    onStep: (step) => ctx.output.info(`${step}...\n`),
    ...(ctx.verbose ? { onOutput: (line: string) => ctx.output.info(`  ${line}\n`) } : {}),
  });
}

/** `fnts build`: builds the function's image with its current version. */
export async function buildCommand(opts: BuildOptions, ctx: CommandContext): Promise<BuiltImage> {
  const dir = resolve(ctx.cwd, opts.dir ?? '.');
  const { func } = await loadFuncFile(dir);
  const built = await buildAt(dir, func, func.version, opts.noCache ?? false, ctx);
  ctx.output.info(`Built ${built.image}\n`);
  return built;
}
