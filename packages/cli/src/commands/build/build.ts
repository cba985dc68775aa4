import { resolve } from 'node:path';
import { loadAppFile } from '../../appfile.js';
import { dockerClient } from '../../build/docker-build.js';
import { buildFunctionImage, type BuiltImage } from '../../build/function-image.js';
import { isTypeChecked, typecheckFunction } from '../../build/typecheck.js';
import { loadFuncFile, type FuncFile } from '../../funcfile.js';
import { startStep, type Step } from '../../output.js';
import { parseConfigPairs } from '../../pairs.js';
import type { CommandContext } from '../command-context.js';
import { outputFormat } from '../print.js';

export interface BuildOptions {
  dir?: string;
  /** Names the image for this app as deploy does (default: app.yaml's name; none: `<name>:<version>`). */
  app?: string;
  noCache?: boolean;
  /** `KEY=VALUE` entries from `--build-arg`, for a Dockerfile (runtime docker). */
  buildArg?: string[];
  /** `json` prints the result as JSON on stdout. */
  output?: string;
  /** false (`--no-typecheck`) skips the TypeScript check before the build. */
  typecheck?: boolean;
}

export interface BuildSettings {
  /** The app the image is for; its name goes into the image name. */
  app?: string;
  noCache?: boolean;
  buildArgs?: Record<string, string>;
  /** false skips the TypeScript check; it runs by default for runtime typescript. */
  typecheck?: boolean;
}

export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** `--build-arg` values; only a Dockerfile reads them, so other runtimes get a note instead. */
export function buildArgsFor(func: FuncFile, pairs: readonly string[] | undefined, ctx: CommandContext): Record<string, string> {
  const args = parseConfigPairs(pairs, '--build-arg');
  if (Object.keys(args).length > 0 && func.runtime !== 'docker') {
    ctx.output.info(`Note: --build-arg is read by a Dockerfile (runtime docker); ignored for runtime ${func.runtime}\n`);
    return {};
  }
  return args;
}

/** Type-checks a TypeScript function (runtime typescript, a .ts entry) as a step of the build's output. */
export async function typecheckIfNeeded(dir: string, func: FuncFile, ctx: CommandContext): Promise<void> {
  if (!isTypeChecked(dir, func)) return;
  const step = startStep(ctx.output, 'type-checking');
  try {
    const { files } = await typecheckFunction(dir);
    step.succeed(`Type-checked ${files} file${files === 1 ? '' : 's'}`);
  } catch (err) {
    step.fail();
    throw err;
  }
}

/** Builds the image for a function directory at a given version, showing the steps (a spinner on a terminal). */
export async function buildAt(dir: string, func: FuncFile, version: string, build: BuildSettings, ctx: CommandContext): Promise<BuiltImage> {
  if (build.typecheck !== false) await typecheckIfNeeded(dir, func, ctx);
  const docker = dockerClient(ctx.settings.dockerSocketPath);
  let step: Step | undefined;
  try {
    const built = await buildFunctionImage(docker, {
      dir,
      func,
      version,
      labels: ctx.settings.imageLabels,
      ...(build.app !== undefined ? { app: build.app } : {}),
      ...(ctx.settings.registry ? { registry: ctx.settings.registry } : {}),
      noCache: build.noCache ?? false,
      ...(build.buildArgs ? { buildArgs: build.buildArgs } : {}),
      onStep: (s) => (step ? step.update(s) : (step = startStep(ctx.output, s))),
      onNote: (note) => ctx.output.info(`Note: ${note}\n`),
      ...(ctx.verbose ? { onOutput: (line: string) => ctx.output.info(`  ${line}\n`) } : {}),
    });
    const size = built.layerBytes > 0 ? ` (function layer ${formatBytes(built.layerBytes)})` : '';
    (step ?? startStep(ctx.output, 'building')).succeed(`Built ${built.image}${size}`);
    return built;
  } catch (err) {
    step?.fail();
    throw err;
  }
}

/**
 * `fnts build`: builds the function's image with its current version; it never pushes. With an app (`--app`, or
 * app.yaml's name) the image is named as deploy names it; without one, `<name>:<version>`.
 */
export async function buildCommand(opts: BuildOptions, ctx: CommandContext): Promise<BuiltImage> {
  const json = outputFormat(opts.output) === 'json';
  const dir = resolve(ctx.cwd, opts.dir ?? '.');
  const { func } = await loadFuncFile(dir);
  const app = opts.app ?? (await loadAppFile(dir))?.app.name;
  const built = await buildAt(dir, func, func.version, {
    ...(app !== undefined ? { app } : {}),
    noCache: opts.noCache ?? false,
    buildArgs: buildArgsFor(func, opts.buildArg, ctx),
    typecheck: opts.typecheck !== false,
  }, ctx);
  if (json) ctx.output.out(`${JSON.stringify({ image: built.image, layer_bytes: built.layerBytes, native_packages: built.nativePackages })}\n`);
  return built;
}
