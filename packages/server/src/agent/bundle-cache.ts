import type { Logger } from 'pino';
import type { DockerDriver } from './docker.js';

/**
 * Function bundles for stem cells: a typescript/node function image is the base image plus /function/func.mjs (and
 * its source map). Read once per image id from the image itself (a created, never started container's archive) and
 * kept in memory, so a claim only copies bytes over a socket.
 */

/**
 * The entrypoints `fnts build` gives a bundled function (packages/cli/src/build/function-image.ts): without Node's
 * source-map flag when the bundled FDK maps stacks itself, with it for an older FDK.
 */
const BUNDLE_ENTRYPOINTS = new Map([
  [JSON.stringify(['node', '/function/func.mjs']), false],
  [JSON.stringify(['node', '--enable-source-maps', '/function/func.mjs']), true],
]);
/** Whether an image with this entrypoint runs a bundled node function (`fnts build`'s, FDK included). */
export function isBundleEntrypoint(entrypoint: readonly string[]): boolean {
  return BUNDLE_ENTRYPOINTS.has(JSON.stringify(entrypoint));
}

/** Files a bundle may hold; anything else in /function (node_modules of a native addon) keeps the image's own path. */
const BUNDLE_FILES = new Set(['func.mjs', 'func.mjs.map']);
/** Labels the base image sets and function images inherit: same Node build, same stem loader. */
export const STEM_LABEL = 'fnts.stem-loader';
export const NODE_LABEL = 'fnts.node';
/** Bundles kept at once (the oldest read goes first); each is one function version's code. */
const MAX_BUNDLES = 64;

export interface Bundle {
  files: { name: string; data: Buffer }[];
  /** The image runs node with --enable-source-maps, so the stem loader turns Node's source maps on. */
  sourceMaps: boolean;
}

/** Regular files directly under `function/` in a tar archive, or undefined when it holds anything else. */
export function bundleFilesOf(tar: Buffer): { name: string; data: Buffer }[] | undefined {
  const files: { name: string; data: Buffer }[] = [];
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number) => header.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const name = (field(345, 155) ? `${field(345, 155)}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const body = at + 512;
    at = body + Math.ceil(size / 512) * 512;
    const base = name.replace(/^function\/?/, '').replace(/\/$/, '');
    if (type === '5' && base === '') continue; // the directory itself
    if (type !== '0' || !BUNDLE_FILES.has(base)) return undefined;
    files.push({ name: base, data: tar.subarray(body, body + size) });
  }
  return files.some((f) => f.name === 'func.mjs') ? files : undefined;
}

/** Bundles by image id; a stem cell can become an image only when `stemLabels` match (same Node, same loader). */
export class BundleCache {
  private readonly byImageId = new Map<string, Promise<Bundle | undefined>>();

  constructor(
    private readonly driver: DockerDriver,
    private readonly labels: Record<string, string>,
    private readonly log: Logger,
  ) {}

  /** The image's bundle when a stem cell made from a base with `base` labels can run it; undefined otherwise. */
  async bundleFor(image: string, base: Record<string, string>): Promise<Bundle | undefined> {
    const info = await this.driver.imageInfo(image);
    if (!info) return undefined;
    const sourceMaps = BUNDLE_ENTRYPOINTS.get(JSON.stringify(info.entrypoint));
    const compatible =
      sourceMaps !== undefined &&
      info.labels[STEM_LABEL] !== undefined && info.labels[STEM_LABEL] === base[STEM_LABEL] &&
      info.labels[NODE_LABEL] !== undefined && info.labels[NODE_LABEL] === base[NODE_LABEL];
    if (!compatible) return undefined;
    let bundle = this.byImageId.get(info.id);
    if (!bundle) {
      bundle = this.read(image, sourceMaps === true);
      this.byImageId.set(info.id, bundle);
      if (this.byImageId.size > MAX_BUNDLES) this.byImageId.delete(this.byImageId.keys().next().value as string);
    }
    return bundle;
  }

  private async read(image: string, sourceMaps: boolean): Promise<Bundle | undefined> {
    try {
      const files = bundleFilesOf(await this.driver.readFromImage(image, '/function', this.labels));
      return files ? { files, sourceMaps } : undefined;
    } catch (err) {
      this.log.warn({ err, image }, 'could not read the function bundle from its image; it starts as a new container');
      return undefined;
    }
  }
}
