import Docker from 'dockerode';
import { pack } from 'tar-fs';
import { cliErrors } from '../errors.js';

export interface ImageBuild {
  /** Directory holding the Dockerfile and everything it copies. */
  contextDir: string;
  tag: string;
  labels: Record<string, string>;
  noCache?: boolean;
  buildArgs?: Record<string, string>;
  /** Receives each line of Docker's build output. */
  onOutput?: (line: string) => void;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

export function dockerClient(socketPath: string): Docker {
  return new Docker({ socketPath });
}

/** Sends the directory as a tar stream (tar-fs) to Docker's build API and waits for the image. */
export async function buildImage(docker: Docker, build: ImageBuild): Promise<void> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(pack(build.contextDir), {
      t: build.tag,
      labels: build.labels,
      nocache: build.noCache ?? false,
      buildargs: build.buildArgs ?? {},
      rm: true,
      forcerm: true,
    });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') throw cliErrors.dockerUnreachable(e.message ?? e.code);
    throw cliErrors.build(`docker build of ${build.tag} failed: ${e.message ?? String(err)}`);
  }
  const events = await new Promise<BuildEvent[]>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, result: BuildEvent[]) => (err ? reject(err) : resolve(result)),
      (event: BuildEvent) => {
        for (const line of (event.stream ?? '').split('\n')) if (line.trim()) build.onOutput?.(line);
      },
    );
  });
  const failure = events.find((e) => e.error);
  if (failure) {
    throw cliErrors.build(`docker build of ${build.tag} failed: ${failure.errorDetail?.message ?? failure.error}`,
      'run again with --verbose to see the build output');
  }
}

/** Returns the value of a label on a local image, or undefined when the image is absent. */
export async function imageLabel(docker: Docker, image: string, label: string): Promise<string | undefined | null> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.Config.Labels?.[label] ?? null;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    const e = err as { code?: string; message?: string };
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') throw cliErrors.dockerUnreachable(e.message ?? e.code);
    throw err;
  }
}
