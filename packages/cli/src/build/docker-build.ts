import Docker from 'dockerode';
import { pack, type PackOptions } from 'tar-fs';
import { cliErrors } from '../errors.js';
import { dockerignoreFilter } from './dockerignore.js';

export interface ImageBuild {
  /** Directory holding the Dockerfile and everything it copies. */
  contextDir: string;
  tag: string;
  labels: Record<string, string>;
  noCache?: boolean;
  buildArgs?: Record<string, string>;
  /** Honour the directory's .dockerignore (a user's context); generated contexts have none. */
  dockerignore?: boolean;
  /** Receives each line of Docker's build output. */
  onOutput?: (line: string) => void;
  /**
   * Exact modes for some entries of the context (paths relative to it, `/`-separated). tar-fs applies the process
   * umask to every mode it packs, which would turn a sticky world-writable `tmp` (1777) into 1755.
   */
  modes?: Record<string, number>;
}

interface ProgressEvent {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
}

export function dockerClient(socketPath: string): Docker {
  return new Docker({ socketPath });
}

/** A Docker connection failure becomes the one-line "cannot reach Docker" error; anything else is returned as is. */
function connectionError(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  return e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES' ? cliErrors.dockerUnreachable(e.message ?? e.code) : err;
}

/** Waits for a Docker progress stream and returns its events. */
function follow(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (e: ProgressEvent) => void): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, result: ProgressEvent[]) => (err ? reject(err) : resolve(result)), onEvent);
  });
}

/** A tar-fs header map that sets the given entries' modes, umask or not. */
function exactModes(modes: Record<string, number>): NonNullable<PackOptions['map']> {
  return (header) => {
    const mode = modes[header.name.replace(/\/+$/, '')];
    if (mode !== undefined) header.mode = mode;
    return header;
  };
}

/** Sends the directory as a tar stream (tar-fs) to Docker's build API and waits for the image. */
export async function buildImage(docker: Docker, build: ImageBuild): Promise<void> {
  const ignore = build.dockerignore ? dockerignoreFilter(build.contextDir) : undefined;
  const packOptions: PackOptions = {
    ...(ignore ? { ignore } : {}),
    // uid 1000 runs the function (CONTRACT §1.7): make everything readable, as Fn's `chmod -R o+r` does.
    readable: true,
    ...(build.modes ? { map: exactModes(build.modes) } : {}),
  };
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(pack(build.contextDir, packOptions), {
      t: build.tag,
      labels: build.labels,
      nocache: build.noCache ?? false,
      buildargs: build.buildArgs ?? {},
      rm: true,
      forcerm: true,
    });
  } catch (err) {
    const e = connectionError(err);
    if (e !== err) throw e;
    throw cliErrors.build(`docker build of ${build.tag} failed: ${(err as Error).message ?? String(err)}`);
  }
  const events = await follow(docker, stream, (event) => {
    for (const line of (event.stream ?? '').split('\n')) if (line.trim()) build.onOutput?.(line);
  });
  const failure = events.find((e) => e.error);
  if (failure) {
    const message = (failure.errorDetail?.message ?? failure.error ?? '').split('\n')[0];
    throw cliErrors.build(`docker build of ${build.tag} failed: ${message}`, 'run again with --verbose to see the build output');
  }
}

/** Splits `host:5000/team/name:tag` into the repository and the tag. */
export function splitImage(image: string): { repo: string; tag: string } {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? { repo: image.slice(0, colon), tag: image.slice(colon + 1) } : { repo: image, tag: 'latest' };
}

/** Pushes a local image to its registry; any failure is one line naming the image and Docker's reason. */
export async function pushImage(docker: Docker, image: string, onOutput?: (line: string) => void): Promise<void> {
  const { repo, tag } = splitImage(image);
  let stream: NodeJS.ReadableStream;
  try {
    // An empty auth header: anonymous, or whatever the engine's registry mirrors and insecure-registries allow.
    stream = (await docker.getImage(repo).push({ tag, authconfig: {} })) as NodeJS.ReadableStream;
  } catch (err) {
    const e = connectionError(err);
    if (e !== err) throw e;
    throw cliErrors.push(image, ((err as Error).message ?? String(err)).split('\n')[0] ?? '');
  }
  let events: ProgressEvent[];
  try {
    events = await follow(docker, stream, (e) => {
      if (e.status) onOutput?.(`${e.id ? `${e.id}: ` : ''}${e.status}`);
    });
  } catch (err) {
    throw cliErrors.push(image, ((err as Error).message ?? String(err)).split('\n')[0] ?? '');
  }
  const failure = events.find((e) => e.error);
  if (failure) throw cliErrors.push(image, (failure.errorDetail?.message ?? failure.error ?? '').split('\n')[0] ?? '');
}

/** Returns the value of a label on a local image, or undefined when the image is absent. */
export async function imageLabel(docker: Docker, image: string, label: string): Promise<string | undefined | null> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.Config.Labels?.[label] ?? null;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw connectionError(err);
  }
}
