import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll } from 'vitest';

/** The engine the tests build on, and a label that marks (and later removes) every image one test file makes. */
export const docker = new Docker({ socketPath: process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock' });

export const TEST_LABEL = 'fnts.test';

/** A run id for this test file; its images are removed after the file's tests. */
export function imagesPerFile(): { run: string; labels: Record<string, string> } {
  const run = randomBytes(6).toString('hex');
  afterAll(async () => {
    // Children first: an image another one is built on cannot go before it, so retry what is left.
    for (let pass = 0; pass < 3; pass++) {
      const images = await docker.listImages({ filters: { label: [`${TEST_LABEL}=${run}`] } });
      if (images.length === 0) return;
      // noprune: the untagged layer every function build shares through the build cache stays, so a build running
      // in parallel never loses its parent ("unknown parent image ID").
      for (const img of images) await docker.getImage(img.Id).remove({ force: true, noprune: true }).catch(() => undefined);
    }
  });
  return { run, labels: { [TEST_LABEL]: run } };
}

/** Runs a command in an image (no network, as uid 1000 like a function) and returns its exit code and output. */
export async function runInImage(image: string, cmd: string[], entrypoint?: string[]): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: cmd,
    ...(entrypoint ? { Entrypoint: entrypoint } : {}),
    User: '1000:1000',
    Labels: { [TEST_LABEL]: 'cli-run' },
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    // Strip Docker's 8-byte stream frame headers.
    let output = '';
    for (let i = 0; i + 8 <= logs.length;) {
      const size = logs.readUInt32BE(i + 4);
      output += logs.subarray(i + 8, i + 8 + size).toString('utf8');
      i += 8 + size;
    }
    return { code: StatusCode, output };
  } finally {
    await container.remove({ force: true });
  }
}

/** The ids of an image's layers, base first. */
export async function layersOf(image: string): Promise<string[]> {
  return (await docker.getImage(image).inspect()).RootFS.Layers ?? [];
}
