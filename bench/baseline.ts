// The baseline side of the invoke benchmark: `POST /call` straight to a container's socket, and `docker run` of the
// function image with the settings the server's DockerDriver uses, timed to the first answer.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { Client } from 'undici';
import { msSince, waitForSocket } from './support.js';

/** The file name the FDK publishes its socket under (CONTRACT §1.3). */
export const SOCKET_NAME = 'lsnr.sock';
/** The input of every benchmark call. */
export const BODY = JSON.stringify({ bench: true });

/** Fails a call whose status is not 200, and reads every response to the end. */
export async function expect200(res: { statusCode: number; body: { text(): Promise<string> } }, what: string): Promise<string> {
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${what} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return text;
}

/** `POST /call` with the headers the agent sends (Fn-Call-Id, Fn-Deadline, Content-Type). */
export async function callOver(client: Client, callId: string): Promise<string> {
  const res = await client.request({
    path: '/call',
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'fn-call-id': callId,
      'fn-deadline': new Date(Date.now() + 30_000).toISOString(),
    },
    body: BODY,
  });
  return expect200(res, 'POST /call');
}

/** The container settings of the server's DockerDriver.start, written out here so the baseline is independent. */
export function baselineContainer(
  image: string, name: string, socketDir: string, labels: Record<string, string>, runtime?: string,
): Docker.ContainerCreateOptions {
  const bytes = 128 * 1024 * 1024;
  const env: Record<string, string> = {
    FNTS_CONFIG_KEYS: '', FN_MEMORY: '128', FN_TYPE: 'sync', FN_FN_ID: 'bench-baseline', FN_APP_ID: 'bench-baseline',
    FN_FN_NAME: 'baseline', FN_APP_NAME: 'bench', FN_LISTENER: `unix:/tmp/iofs/${SOCKET_NAME}`, FN_FORMAT: 'http-stream',
  };
  return {
    name,
    Image: image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...labels, 'fnts.managed': 'true', 'fnts.app': 'bench-baseline', 'fnts.fn': 'bench-baseline' },
    User: '1000:1000',
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Binds: [`${socketDir}:/tmp/iofs`],
      NetworkMode: 'none',
      ...(runtime === undefined ? {} : { Runtime: runtime }),
      Init: true,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: bytes,
      MemorySwap: bytes,
      PidsLimit: 50,
      Ulimits: [
        { Name: 'nofile', Soft: 350, Hard: 350 },
        { Name: 'memlock', Soft: 65536, Hard: 65536 },
        { Name: 'sigpending', Soft: 5000, Hard: 5000 },
        { Name: 'msgqueue', Soft: 819200, Hard: 819200 },
      ],
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

export interface DockerRunTiming {
  totalMs: number;
  createMs: number;
  attachStartMs: number;
  socketMs: number;
  firstCallMs: number;
}

/**
 * create → attach → start → socket published → first `POST /call` answered; then removes the container. `runtime`
 * names an OCI runtime the engine has (`docker run --runtime`); unset, the engine's default, as `docker run` does.
 */
export async function dockerRun(
  docker: Docker, image: string,
  opts: { name: string; labels: Record<string, string>; work: string; callId: string; timeoutMs: number; runtime?: string },
): Promise<DockerRunTiming> {
  const { labels, work } = opts;
  const dir = await mkdtemp(join(work, 'baseline-iofs'));
  await chmod(dir, 0o777); // the FDK runs as uid 1000 and creates its socket here
  const socketReady = waitForSocket(dir, SOCKET_NAME, opts.timeoutMs);
  socketReady.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  let container: Docker.Container | undefined;
  try {
    const t0 = process.hrtime.bigint();
    container = await docker.createContainer(baselineContainer(image, opts.name, dir, labels, opts.runtime));
    const createMs = msSince(t0);
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    stream.resume(); // the server reads the output; the baseline only drains it
    await container.start();
    const attachStartMs = msSince(t0) - createMs;
    await socketReady;
    const socketMs = msSince(t0) - createMs - attachStartMs;
    const client = new Client('http://localhost', { socketPath: join(dir, SOCKET_NAME) });
    try {
      await callOver(client, opts.callId);
    } finally {
      await client.close();
    }
    const totalMs = msSince(t0);
    return { totalMs, createMs, attachStartMs, socketMs, firstCallMs: totalMs - createMs - attachStartMs - socketMs };
  } finally {
    await container?.remove({ force: true, v: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
