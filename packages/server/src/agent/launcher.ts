import { ENV, LOG_FRAME, SOCKET_NAME } from '@fnts/api/contract';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { newId } from '../ids.js';
import { errors } from '../errors.js';
import type { ContainerSpec, DockerDriver, ExitInfo } from './docker.js';
import { HotContainer, socketClient } from './hot-container.js';
import { armSocketWait } from './socket-wait.js';

/** Everything needed to start containers for one function version. */
export interface LaunchSettings {
  appId: string;
  fnId: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  memoryMiB: number;
  concurrency: number;
  networkMode: string;
  pidsLimit: number;
  syslogUrl: string | undefined;
  /** This server's socket-dir root; every container gets a fresh dir below it. */
  iofsDir: string;
  startTimeoutMs: number;
  imagePull: 'missing' | 'never';
  pullTimeoutMs: number;
}

/** Receives each line a container prints, with the call it belongs to when that is unambiguous. */
export type OutputSink = (line: string, container: string, callId: string | undefined) => void;

/**
 * Log framing (CONTRACT §1.6): with these variables the FDK prints `\nfnts_call_id=<Fn-Call-Id>` to stdout and
 * stderr as each call starts, so output that Docker delivers after the call ended is still tagged correctly.
 */
export const LOG_FRAME_ENV = { [ENV.logFrameName]: LOG_FRAME.name, [ENV.logFrameHeader]: LOG_FRAME.header } as const;
const FRAME_PREFIX = `${LOG_FRAME.name}=`;

/** Splits output into lines, consumes frame lines (and the blank line before each), tags the rest with the call. */
function tagOutput(output: NodeJS.ReadableStream, emit: (line: string, callId: string | undefined) => void): void {
  let callId: string | undefined;
  let blankPending = false;
  createInterface({ input: output, crlfDelay: Infinity }).on('line', (line) => {
    if (line.startsWith(FRAME_PREFIX)) {
      callId = line.slice(FRAME_PREFIX.length) || undefined;
      blankPending = false;
      return;
    }
    if (blankPending) emit('', callId);
    blankPending = line === '';
    if (!blankPending) emit(line, callId);
  });
}

/** Force-removes a container and its socket dir; used for every way a container ends. */
export async function destroyContainer(driver: DockerDriver, c: HotContainer, log: Logger): Promise<void> {
  await c.client.destroy().catch(() => undefined);
  await driver.remove(c.id).catch((err: unknown) => log.warn({ err, container: c.name }, 'container removal failed'));
  await rm(c.socketDir, { recursive: true, force: true });
}

/** Pulls under way, by image, so concurrent cold starts share one pull. */
const pulls = new Map<string, Promise<void>>();

/** Makes sure the engine has the image: pulled when missing and allowed (CONTRACT §1.4 for the errors). */
async function ensureImage(driver: DockerDriver, s: LaunchSettings): Promise<void> {
  if (await driver.imageExists(s.image)) return;
  if (s.imagePull === 'never') throw errors.imageNotFound(s.image);
  let pull = pulls.get(s.image);
  if (!pull) {
    pull = driver.pull(s.image, s.pullTimeoutMs).finally(() => pulls.delete(s.image));
    pulls.set(s.image, pull);
  }
  try {
    await pull;
  } catch (err) {
    const e = err as { timedOut?: boolean; statusCode?: number; json?: { message?: string }; message?: string };
    if (e.timedOut) throw errors.imagePullTimeout();
    const status = e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 502;
    throw errors.imagePullFailed(s.image, status, e.json?.message ?? e.message ?? 'unknown error');
  }
}

/**
 * Starts one container and waits until its FDK has published the socket (CONTRACT §1.3–1.4): 502 when it
 * exits first or publishes something invalid, 504 when the start timeout passes.
 */
export async function launchContainer(
  s: LaunchSettings,
  driver: DockerDriver,
  log: Logger,
  signal: AbortSignal,
  onOutput: OutputSink,
): Promise<HotContainer> {
  await ensureImage(driver, s);
  await mkdir(s.iofsDir, { recursive: true });
  const socketDir = await mkdtemp(join(s.iofsDir, 'iofs'));
  // The FDK runs as uid 1000 and must create its socket here (CONTRACT §1.2).
  await chmod(socketDir, 0o777);
  const waiter = armSocketWait(socketDir);
  const name = `fnts-${newId().toLowerCase()}`;
  const spec: ContainerSpec = {
    name, image: s.image, env: s.env, labels: s.labels, socketDir, memoryMiB: s.memoryMiB,
    networkMode: s.networkMode, pidsLimit: s.pidsLimit, syslogUrl: s.syslogUrl,
    syslogTag: `app_id=${s.appId},fn_id=${s.fnId}`,
  };
  const started = Date.now();
  let container: HotContainer | undefined;
  let id: string;
  try {
    const result = await driver.start(spec);
    id = result.id;
    tagOutput(result.output, (line, framedCallId) => onOutput(line, name, framedCallId ?? container?.soleCallId));
  } catch (err) {
    waiter.close();
    await rm(socketDir, { recursive: true, force: true });
    throw err;
  }
  const exited = driver.wait(id).catch((): ExitInfo => ({ exitCode: -1, oomKilled: false }));
  container = new HotContainer(id, name, socketDir, socketClient(join(socketDir, SOCKET_NAME), s.concurrency), exited,
    s.concurrency, s.memoryMiB);
  const outcome = await Promise.race([
    waiter.wait(s.startTimeoutMs, signal),
    exited.then((info) => ({ kind: 'exited' as const, info })),
  ]);
  waiter.close();
  if (outcome.kind === 'ready') {
    log.info({ container: name, ms: Date.now() - started }, 'container ready');
    return container;
  }
  container.state = 'stopping';
  await destroyContainer(driver, container, log);
  switch (outcome.kind) {
    case 'exited':
      throw errors.containerInitFailed(
        outcome.info.oomKilled ? 'out of memory' : `container exited with code ${outcome.info.exitCode}`,
      );
    case 'invalid':
      throw errors.containerInitFailed(outcome.reason);
    case 'timeout':
      throw errors.containerInitTimeout();
    case 'aborted':
      throw errors.containerInitFailed('the server is shutting down');
  }
}
