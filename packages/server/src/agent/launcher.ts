import { ENV, LOG_FRAME, SOCKET_NAME } from '@fnts/api/contract';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { newId } from '../ids.js';
import { errors } from '../errors.js';
import type { ContainerSpec, DockerDriver, ExitInfo } from './docker.js';
import { HotContainer, socketClient } from './hot-container.js';
import { prepareSocketDir, removeSocketDir, socketDirPath } from './iofs.js';
import { LineSplitter, ServerLogBound, type OutputPiece, type Suppressed } from './output.js';
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
  /** Size of the tmpfs on each socket dir (iofs.ts). */
  iofsSizeBytes: number;
  /** Longer output lines are split into pieces of this many bytes. */
  maxLineBytes: number;
  /** Bytes per second of one container's output that may reach the server log. */
  logRateBytes: number;
}

/** Receives what a container prints, already split into bounded lines and tagged with its call when known. */
export interface OutputSink {
  /** One line or piece; `toServerLog` is false once the container is past its server-log rate. */
  line(piece: OutputPiece, container: string, callId: string | undefined, toServerLog: boolean): void;
  /** Output kept out of the server log in one window, reported once. */
  suppressed(container: string, s: Suppressed): void;
}

/**
 * Log framing (CONTRACT §1.6): with these variables the FDK prints `\nfnts_call_id=<Fn-Call-Id>` to stdout and
 * stderr as each call starts, so output that Docker delivers after the call ended is still tagged correctly.
 */
export const LOG_FRAME_ENV = { [ENV.logFrameName]: LOG_FRAME.name, [ENV.logFrameHeader]: LOG_FRAME.header } as const;
const FRAME_PREFIX = `${LOG_FRAME.name}=`;

/**
 * Splits output into bounded lines (never an unbounded buffer: a function may print gigabytes without a newline),
 * consumes frame lines (and the blank line before each), tags the rest with the call and applies the server-log rate.
 */
export function tagOutput(
  output: NodeJS.ReadableStream,
  s: LaunchSettings,
  emit: (piece: OutputPiece, framedCallId: string | undefined, toServerLog: boolean) => void,
  suppressed: (x: Suppressed) => void,
): void {
  let callId: string | undefined;
  let blankPending = false;
  let midLine = false;
  const bound = new ServerLogBound(s.logRateBytes, suppressed);
  const send = (piece: OutputPiece) => emit(piece, callId, bound.admit(Buffer.byteLength(piece.text)));
  const splitter = new LineSplitter(s.maxLineBytes, (piece) => {
    const whole = !midLine && !piece.continues;
    midLine = piece.continues;
    if (whole && piece.text.startsWith(FRAME_PREFIX)) {
      callId = piece.text.slice(FRAME_PREFIX.length) || undefined;
      blankPending = false;
      return;
    }
    if (blankPending) send({ text: '', continues: false });
    blankPending = whole && piece.text === '';
    if (!blankPending) send(piece);
  });
  output.on('data', (chunk: Buffer) => splitter.push(chunk));
  output.once('end', () => {
    splitter.end();
    bound.flush();
  });
}

/** Force-removes a container and its socket dir; used for every way a container ends. */
export async function destroyContainer(driver: DockerDriver, c: HotContainer, log: Logger): Promise<void> {
  await c.client.destroy().catch(() => undefined);
  await driver.remove(c.id).catch((err: unknown) => log.warn({ err, container: c.name }, 'container removal failed'));
  await removeSocketDir(c.socketDir);
}

/** Pulls under way, by image, so concurrent cold starts share one pull. */
const pulls = new Map<string, Promise<void>>();

/** Pulls a missing image when allowed (CONTRACT §1.4 for the errors). */
async function pullImage(driver: DockerDriver, s: LaunchSettings): Promise<void> {
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

/** Creates the container, pulling its image first when the engine does not have it. */
async function createPulling(driver: DockerDriver, spec: ContainerSpec, s: LaunchSettings): Promise<string> {
  try {
    return await driver.create(spec);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  await pullImage(driver, s);
  return driver.create(spec);
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
  const socketDir = socketDirPath(s.iofsDir);
  const name = `fnts-${newId().toLowerCase()}`;
  const spec: ContainerSpec = {
    name, image: s.image, env: s.env, labels: s.labels, socketDir, memoryMiB: s.memoryMiB,
    networkMode: s.networkMode, pidsLimit: s.pidsLimit, syslogUrl: s.syslogUrl,
    syslogTag: `app_id=${s.appId},fn_id=${s.fnId}`,
  };
  const started = Date.now();
  // eslint-disable-next-line prefer-const -- the output callback above reads it before the container exists
  let container: HotContainer | undefined;
  let id: string | undefined;
  let waiter: ReturnType<typeof armSocketWait> | undefined;
  // The socket dir (a tmpfs mount) is made while the engine creates the container: a cold start waits for the
  // slower of the two, not for both. The image is not looked up first: a missing one is the create's 404.
  const dirReady = prepareSocketDir(socketDir, s.iofsSizeBytes, log);
  try {
    const [created] = await Promise.all([createPulling(driver, spec, s), dirReady]);
    id = created;
    waiter = armSocketWait(socketDir);
    const launched = await driver.attachAndStart(id);
    id = launched.id; // a new one when the driver fell back to the engine's default runtime
    const output = launched.output;
    tagOutput(
      output,
      s,
      (piece, framedCallId, toServerLog) => onOutput.line(piece, name, framedCallId ?? container?.soleCallId, toServerLog),
      (x) => onOutput.suppressed(name, x),
    );
  } catch (err) {
    waiter?.close();
    await dirReady.catch(() => undefined); // settled before it is removed
    if (id !== undefined) await driver.remove(id).catch(() => undefined);
    await removeSocketDir(socketDir);
    throw err;
  }
  const exited = driver.wait(id).catch((): ExitInfo => ({ exitCode: -1, oomKilled: false }));
  container = new HotContainer(id, name, socketDir, socketClient(join(socketDir, SOCKET_NAME), s.concurrency), exited,
    s.concurrency, s.memoryMiB);
  const outcome = await Promise.race([
    (waiter as ReturnType<typeof armSocketWait>).wait(s.startTimeoutMs, signal),
    exited.then((info) => ({ kind: 'exited' as const, info })),
  ]);
  waiter?.close();
  if (outcome.kind === 'ready') {
    log.info({ container: name, ms: Date.now() - started }, 'container ready');
    container.moveTo('ready');
    return container;
  }
  container.stop();
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
