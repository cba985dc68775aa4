import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { cliErrors } from '../errors.js';
import { buildImage, imageLabel } from './docker-build.js';
import { STEM_LOADER_PATH, STEM_LOADER_SOURCE } from './stem-loader.js';

const run = promisify(execFile);

/** The label recording which Node build a base image holds; a different host Node means a rebuild. */
const NODE_LABEL = 'fnts.node';
/**
 * The label recording the layout of the image's files; bump BASE_LAYOUT when it changes so an existing image
 * is rebuilt. 2: /tmp is 1777 (layout 1 had 1755 from the packer's umask, and uid 1000 could not write there).
 */
const LAYOUT_LABEL = 'fnts.base-layout';
const BASE_LAYOUT = '2';
/**
 * The version of the stem-cell loader (stem-loader.ts) the image holds, which the server's prewarmed containers run.
 * Function images inherit the label, so the server knows which images a stem cell can become. A missing or older
 * label means a rebuild (kept apart from the layout, so that a CLI that predates the loader accepts the image).
 */
const STEM_LABEL = 'fnts.stem-loader';
const STEM_LOADER_VERSION = '2';

export function baseImageTag(nodeVersion = process.version): string {
  return `fnts/node:${nodeVersion.replace(/^v/, '').split('.')[0]}`;
}

/** The shared libraries a binary links, from ldd: absolute paths, the dynamic loader included. */
export async function linkedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [binary]));
  } catch (err) {
    // A static binary makes ldd fail with "not a dynamic executable": it needs no libraries.
    if (/not a dynamic executable/.test(String((err as { stderr?: string }).stderr))) return [];
    throw cliErrors.build(`cannot list the libraries of ${binary}: ${(err as Error).message}`, 'install libc-bin (ldd)');
  }
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs];
}

const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nfn:x:1000:1000:fn:/tmp:/sbin/nologin\n';
const GROUP = 'root:x:0:\nfn:x:1000:\n';

/**
 * Makes sure `fnts/node:<major>` exists: FROM scratch, the host's Node binary and the libraries it links,
 * a /tmp and a uid 1000 user. No registry is involved, so it works offline.
 */
export async function ensureBaseImage(
  docker: Docker,
  opts: { labels?: Record<string, string>; onOutput?: (line: string) => void; nodeBinary?: string } = {},
): Promise<string> {
  const tag = baseImageTag();
  if (
    (await imageLabel(docker, tag, NODE_LABEL)) === process.version && (await imageLabel(docker, tag, LAYOUT_LABEL)) === BASE_LAYOUT &&
    (await imageLabel(docker, tag, STEM_LABEL)) === STEM_LOADER_VERSION
  ) {
    return tag;
  }
  const node = opts.nodeBinary ?? process.execPath;
  const ctx = await mkdtemp(join(tmpdir(), 'fnts-base-'));
  try {
    const rootfs = join(ctx, 'rootfs');
    await mkdir(join(rootfs, 'usr/local/bin'), { recursive: true });
    await copyFile(node, join(rootfs, 'usr/local/bin/node'));
    for (const lib of await linkedLibraries(node)) {
      await mkdir(join(rootfs, dirname(lib)), { recursive: true });
      await copyFile(lib, join(rootfs, lib)); // copyFile follows symlinks: the loader's path gets the real file
    }
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
    await writeFile(join(rootfs, 'etc/group'), GROUP);
    await mkdir(join(rootfs, 'tmp'));
    await chmod(join(rootfs, 'tmp'), 0o1777); // for the packer's stat; `modes` below makes it survive the umask
    await mkdir(join(rootfs, 'function'));
    await mkdir(join(rootfs, dirname(STEM_LOADER_PATH)), { recursive: true });
    await writeFile(join(rootfs, STEM_LOADER_PATH), STEM_LOADER_SOURCE);
    await writeFile(
      join(ctx, 'Dockerfile'),
      ['FROM scratch', 'COPY rootfs/ /', 'ENV PATH=/usr/local/bin NODE_ENV=production', 'WORKDIR /function', ''].join('\n'),
    );
    await buildImage(docker, {
      contextDir: ctx,
      tag,
      labels: { ...opts.labels, 'fnts.managed': 'true', 'fnts.kind': 'base', [NODE_LABEL]: process.version, [LAYOUT_LABEL]: BASE_LAYOUT,
        [STEM_LABEL]: STEM_LOADER_VERSION },
      modes: { 'rootfs/tmp': 0o1777 },
      ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
    });
    return tag;
  } finally {
    await rm(ctx, { recursive: true, force: true });
  }
}
