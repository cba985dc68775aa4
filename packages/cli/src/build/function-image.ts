import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { cliErrors } from '../errors.js';
import type { FuncFile } from '../funcfile.js';
import { baseImageTag, ensureBaseImage } from './base-image.js';
import { bundleFunction } from './bundle.js';
import { buildImage } from './docker-build.js';
import { chooseFnRunImage, isFnNodeImage } from './fn-run-image.js';
import { copyPackages, dependencyClosure } from './native-addons.js';

export interface FunctionImageOptions {
  dir: string;
  func: FuncFile;
  /** The version to tag the image with (deploy passes the bumped one). */
  version: string;
  labels: Record<string, string>;
  /** The app the image is for: its name goes into the image name (see imageName), so apps never share a tag. */
  app?: string;
  /** Prefix of the image name (`<registry>/<app>/<name>:<version>`), from the context or FNTS_REGISTRY. */
  registry?: string;
  noCache?: boolean;
  /** `--build-arg` values; only a Dockerfile (runtime docker) reads them. */
  buildArgs?: Record<string, string>;
  onOutput?: (line: string) => void;
  /** A new step starts (for a spinner or a progress line). */
  onStep?: (step: string) => void;
  /** Something the user should know about the build, such as a native addon copied instead of bundled. */
  onNote?: (note: string) => void;
}

export interface BuiltImage {
  image: string;
  /** Size of the function's own layer content (bundle, source map, copied packages) in bytes; 0 for runtime docker. */
  layerBytes: number;
  /** Packages copied with node_modules because they hold native addons. */
  nativePackages: string[];
}

/** A path component of an image name as Docker's reference grammar has it; an app name has no `.`, so no `.` here. */
const DOCKER_COMPONENT_WITHOUT_DOT = /^[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*$/;

/**
 * The path component that stands for an app in its functions' image names: the app's own name when Docker accepts
 * it as one (`shop`), else a lowercase form of it, a `.` and 8 hex digits of its hash (`Shop` → `shop.d00aae6b`).
 * App names never contain a `.`, so the second form can never equal the first form of another app.
 */
export function appImageComponent(app: string): string {
  if (DOCKER_COMPONENT_WITHOUT_DOT.test(app) && app.length <= 64) return app;
  const slug = app.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48).replace(/-+$/, '');
  return `${slug || 'app'}.${createHash('sha256').update(app).digest('hex').slice(0, 8)}`;
}

/**
 * The image name rule: `[<registry>/]<app>/<name>:<version>` for a function of an app, so `hello` in app `a` and
 * `hello` in app `b` build different images and a deploy never replaces another app's image; `[<registry>/]<name>:
 * <version>` for `fnts build` outside any app (Fn's rule), which cannot equal a per-app name (a function name has no
 * `/`).
 */
export function imageName(func: FuncFile, version: string, registry?: string, app?: string): string {
  const prefix = registry ? `${registry.replace(/\/+$/, '')}/` : '';
  return `${prefix}${app !== undefined ? `${appImageComponent(app)}/` : ''}${func.name}:${version}`;
}

/** The images a Dockerfile's FROM lines name, leaving out references to earlier build stages. */
export function fromImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  for (const line of dockerfile.split(/\r?\n/)) {
    const m = /^\s*FROM\s+(.*)$/i.exec(line);
    if (!m?.[1]) continue;
    const words = m[1].trim().split(/\s+/).filter((w) => !w.startsWith('--'));
    const image = words[0];
    if (image && !stages.has(image.toLowerCase())) images.push(image);
    if (words[1]?.toLowerCase() === 'as' && words[2]) stages.add(words[2].toLowerCase());
  }
  return images;
}

/** For runtime docker: builds `fnts/node:<major>` first when the Dockerfile starts from it. */
async function ensureFntsBase(docker: Docker, dockerfile: string, onOutput?: (line: string) => void): Promise<boolean> {
  const wanted = fromImages(dockerfile).filter((i) => /^fnts\/node(:|$)/.test(i));
  if (wanted.length === 0) return false;
  const tag = baseImageTag();
  const other = wanted.find((i) => i !== tag);
  if (other) {
    throw cliErrors.build(`the Dockerfile starts FROM ${other}, but this CLI runs Node ${process.versions.node} and builds ${tag}`,
      `change the FROM line to ${tag}`);
  }
  await ensureBaseImage(docker, onOutput ? { onOutput } : {});
  return true;
}

/** Builds a function's image: the bundle on top of the base image (typescript/node), or the user's Dockerfile (docker). */
export async function buildFunctionImage(docker: Docker, opts: FunctionImageOptions): Promise<BuiltImage> {
  const image = imageName(opts.func, opts.version, opts.registry, opts.app);
  // fnts.kind is set explicitly: an image inherits its base's labels, and the base says `base`.
  const labels = {
    ...opts.labels, 'fnts.managed': 'true', 'fnts.kind': 'function', 'fnts.function': opts.func.name,
    ...(opts.app !== undefined ? { 'fnts.app': opts.app } : {}),
  };
  const common = {
    tag: image,
    labels,
    ...(opts.noCache ? { noCache: true } : {}),
    ...(opts.buildArgs && Object.keys(opts.buildArgs).length > 0 ? { buildArgs: opts.buildArgs } : {}),
    ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
  };
  const runtime = opts.func.runtime;
  if (runtime === 'docker') {
    const dockerfile = join(opts.dir, 'Dockerfile');
    if (!existsSync(dockerfile)) {
      throw cliErrors.build(`runtime docker builds from a Dockerfile, and ${opts.dir} has none`,
        'add a Dockerfile, or set `runtime: typescript` or `runtime: node` in func.yaml');
    }
    opts.onStep?.('preparing the base image');
    await ensureFntsBase(docker, await readFile(dockerfile, 'utf8'), opts.onOutput);
    opts.onStep?.(`building ${image} from your Dockerfile`);
    await buildImage(docker, { contextDir: opts.dir, dockerignore: true, ...common });
    return { image, layerBytes: 0, nativePackages: [] };
  }

  let base = opts.func.run_image;
  if (base && isFnNodeImage(base)) {
    const choice = await chooseFnRunImage(docker, base, {
      ...(opts.onStep ? { onStep: opts.onStep } : {}), ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
    });
    base = choice.image;
    if (choice.note) opts.onNote?.(choice.note);
  }
  if (!base) {
    opts.onStep?.('preparing the base image');
    base = await ensureBaseImage(docker, opts.onOutput ? { onOutput: opts.onOutput } : {});
  }
  const ctx = await mkdtemp(join(tmpdir(), 'fnts-build-'));
  try {
    opts.onStep?.('bundling the function');
    const bundle = await bundleFunction(opts.dir, ctx, runtime);
    let layerBytes = bundle.bytes + (await stat(`${bundle.file}.map`)).size;
    const copy = bundle.external.length > 0;
    // An FDK that maps stacks itself on first use (packages/fdk/src/source-maps.ts) spares every start Node's eager
    // --enable-source-maps; a function that brings an older FDK of its own keeps the flag.
    const lazyMaps = (await readFile(bundle.file, 'utf8')).includes('installLazySourceMaps');
    if (copy) {
      for (const n of bundle.external) {
        opts.onNote?.(`${n.name} has a native addon (${n.evidence}): copied with its node_modules instead of bundled`);
      }
      const dirs = await dependencyClosure(opts.dir, bundle.external.map((n) => n.dir));
      layerBytes += await copyPackages(opts.dir, dirs, ctx);
    }
    await writeFile(
      join(ctx, 'Dockerfile'),
      [
        `FROM ${base}`,
        'WORKDIR /function',
        'COPY func.mjs func.mjs.map /function/',
        ...(copy ? ['COPY node_modules /function/node_modules/'] : []),
        `ENTRYPOINT ${JSON.stringify(['node', ...(lazyMaps ? [] : ['--enable-source-maps']), '/function/func.mjs'])}`,
        '',
      ].join('\n'),
    );
    opts.onStep?.(`building ${image}`);
    try {
      await buildImage(docker, { contextDir: ctx, ...common });
    } catch (err) {
      if (opts.func.run_image && base === opts.func.run_image && err instanceof Error && 'code' in err && err.code === 'FNTS_ERR_BUILD') {
        throw cliErrors.build(err.message, `check that run_image ${opts.func.run_image} is on this engine (docker images) or in a reachable registry`);
      }
      throw err;
    }
    return { image, layerBytes, nativePackages: bundle.external.map((n) => n.name) };
  } finally {
    await rm(ctx, { recursive: true, force: true });
  }
}
