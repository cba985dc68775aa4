import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { FuncFile } from '../funcfile.js';
import { ensureBaseImage } from './base-image.js';
import { bundleFunction } from './bundle.js';
import { buildImage } from './docker-build.js';

export interface FunctionImageOptions {
  dir: string;
  func: FuncFile;
  /** The version to tag the image with (deploy passes the bumped one). */
  version: string;
  labels: Record<string, string>;
  noCache?: boolean;
  onOutput?: (line: string) => void;
  onStep?: (step: string) => void;
}

export interface BuiltImage {
  image: string;
  /** Size of the function's own layer content (the bundle), in bytes. */
  bundleBytes: number;
}

export function imageName(func: FuncFile, version: string): string {
  return `${func.name}:${version}`;
}

/** Builds a function's image: the bundle on top of the base image (typescript/node), or the user's Dockerfile (docker). */
export async function buildFunctionImage(docker: Docker, opts: FunctionImageOptions): Promise<BuiltImage> {
  const image = imageName(opts.func, opts.version);
  const labels = { ...opts.labels, 'fnts.managed': 'true', 'fnts.function': opts.func.name };
  const common = {
    tag: image,
    labels,
    ...(opts.noCache ? { noCache: true } : {}),
    ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
  };
  if (opts.func.runtime === 'docker') {
    opts.onStep?.('building the image from your Dockerfile');
    await buildImage(docker, { contextDir: opts.dir, ...common });
    return { image, bundleBytes: 0 };
  }
  opts.onStep?.('preparing the base image');
  const base = await ensureBaseImage(docker, { ...(opts.onOutput ? { onOutput: opts.onOutput } : {}) });
  const ctx = await mkdtemp(join(tmpdir(), 'fnts-build-'));
  try {
    opts.onStep?.('bundling the function');
    const bundle = await bundleFunction(opts.dir, ctx);
    await writeFile(
      join(ctx, 'Dockerfile'),
      [
        `FROM ${base}`,
        'WORKDIR /function',
        'COPY func.mjs func.mjs.map /function/',
        'ENTRYPOINT ["node", "--enable-source-maps", "/function/func.mjs"]',
        '',
      ].join('\n'),
    );
    opts.onStep?.(`building ${image}`);
    await buildImage(docker, { contextDir: ctx, ...common });
    return { image, bundleBytes: bundle.bytes };
  } finally {
    await rm(ctx, { recursive: true, force: true });
  }
}

