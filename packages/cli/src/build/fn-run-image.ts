import type Docker from 'dockerode';
import { cliErrors } from '../errors.js';
import { ensureBaseImage } from './base-image.js';
import { imageLabel } from './docker-build.js';

/**
 * Fn's own Node images, as `fn init --runtime node` writes them into func.yaml (`run_image: fnproject/node:20`,
 * `build_image: fnproject/node:20-dev`). fnts bundles on this machine, so only the run image matters, and fnts's
 * base image can stand in for it: both run `node` on a function that talks http-stream over FN_LISTENER.
 */
const FN_NODE_IMAGE = /^fnproject\/node(?::[\w][\w.-]{0,127})?$/;

export function isFnNodeImage(image: string): boolean {
  return FN_NODE_IMAGE.test(image);
}

/** Docker's words for "the registry cannot be reached" (DNS, TCP, TLS or a timeout), as opposed to a refusal. */
const UNREACHABLE = /no such host|dial tcp|connection refused|network is unreachable|i\/o timeout|TLS handshake timeout|Client\.Timeout|temporary failure in name resolution|server misbehaving|context deadline exceeded/i;

interface ProgressEvent {
  error?: string;
  errorDetail?: { message?: string };
}

/** Pulls an image; resolves with Docker's error message, or undefined once the image is on the engine. */
async function pull(docker: Docker, image: string): Promise<string | undefined> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(image)) as NodeJS.ReadableStream;
  } catch (err) {
    return (err as Error).message ?? String(err);
  }
  return new Promise((resolve) => {
    docker.modem.followProgress(stream, (err: Error | null, events: ProgressEvent[]) => {
      const failed = events?.find((e) => e.error);
      resolve(err ? err.message : failed ? (failed.errorDetail?.message ?? failed.error) : undefined);
    });
  });
}

export interface RunImageChoice {
  /** The image the function's image is built FROM. */
  image: string;
  /** Set when fnts's base stands in for Fn's image: the one line to show the user. */
  note?: string;
}

/**
 * The image to build an Fn user's function on when its run_image is Fn's Node image: that image when it is on this
 * engine or a registry gives it; fnts's own base (made offline from this machine's Node) when no registry can be
 * reached, so a directory made by `fn init --runtime node` deploys offline with no edits. A registry that answers
 * but refuses (no such tag, say) is an error: the user named an image that does not exist.
 */
export async function chooseFnRunImage(
  docker: Docker,
  runImage: string,
  opts: { onStep?: (step: string) => void; onOutput?: (line: string) => void } = {},
): Promise<RunImageChoice> {
  if ((await imageLabel(docker, runImage, 'fnts.kind')) !== undefined) return { image: runImage };
  opts.onStep?.(`pulling ${runImage}`);
  const failure = await pull(docker, runImage);
  if (failure === undefined) return { image: runImage };
  const reason = failure.split('\n')[0] ?? '';
  if (!UNREACHABLE.test(reason)) {
    throw cliErrors.build(`cannot pull run_image ${runImage}: ${reason}`,
      'check the tag, or remove run_image from func.yaml to build on fnts/node (made from this machine\'s Node)');
  }
  opts.onStep?.('preparing the base image');
  const base = await ensureBaseImage(docker, opts.onOutput ? { onOutput: opts.onOutput } : {});
  return {
    image: base,
    note: `${runImage} (Fn's Node image) is not on this engine and no registry is reachable: building on ${base} (this machine's Node ${process.version}) instead`,
  };
}
