// Public API of the fnts FDK: serve a function over the Fn http-stream contract.
// The published types name Buffer and node:stream: kept in index.d.ts, this line makes a project without
// @types/node fail with one "cannot find type definition file for 'node'" instead of an error per use.
/// <reference types="node" preserve="true" />
import type { BatchEncoding } from './batch-event.js';
import { batchHandler, type BatchHandler } from './batch.js';
import { prepareLogFrames, processLog, runCall, type CallHandler, type CallLog, type Handler } from './call.js';
import { FdkError } from './errors.js';
import { listenOnSocket, type FdkServer } from './listener.js';
import { resolveSettings, type FdkSettings, type HandleOptions } from './settings.js';
import { installLazySourceMaps } from './source-maps.js';
import { pathToFileURL } from 'node:url';

export type { InputMode } from './codec.js';
export type { Context, HttpGateway } from './context.js';
export type { Tracing } from './tracing.js';
export type { Handler } from './call.js';
export type { HeaderRecord } from './headers.js';
export type { FdkServer } from './listener.js';
export type { HandleOptions } from './settings.js';
export type { RawResult, StreamResult, StreamSource } from './result.js';
export { rawResult, streamResult } from './result.js';
export type {
  BatchEncoding,
  BatchEvent,
  BatchEventWire,
  BatchKey,
  BatchRecord,
  BatchRecordWire,
} from './batch-event.js';
export { decodeBatchEvent } from './batch-event.js';
export type { BatchContext, BatchFailure, BatchHandler, BatchResult, RecordRef } from './batch.js';
export { RecordError } from './batch.js';
export {
  BatchEventError,
  FdkError,
  FdkConfigError,
  FdkListenError,
  type FdkErrorCode,
} from './errors.js';
export { FDK_VERSION } from './protocol.js';

/** Options of `handleBatch` and `serveBatch`. */
export interface BatchOptions extends Omit<HandleOptions, 'inputMode'> {
  /**
   * The encoding the function's code expects; when set, an event in another one
   * fails the batch (502) with a message naming both, instead of the function
   * misreading every value.
   */
  encoding?: BatchEncoding;
}

// Exit codes of fdk-node: 2 for a bad environment, 3 when the server cannot run.
const EXIT_BAD_CONFIG = 2;
const EXIT_LISTEN_FAILED = 3;

/**
 * Serves `fn` on the socket named by `FN_LISTENER`; call once at startup. On a bad
 * environment it logs why and exits with code 2 (3 if the socket cannot be made).
 */
export function handle<In = unknown, Out = unknown>(fn: Handler<In, Out>, options: HandleOptions = {}): FdkServer {
  return startOrExit(asCallHandler(fn), options);
}

/**
 * Like `handle`, but throws an FdkError instead of exiting; resolves once the
 * socket is published. For tests and for embedding.
 */
export async function serve<In = unknown, Out = unknown>(
  fn: Handler<In, Out>,
  options: HandleOptions = {},
): Promise<FdkServer> {
  return start(asCallHandler(fn), resolveSettings(options.env ?? process.env, options), processLog);
}

/**
 * Serves a stream-trigger function: each call carries one batch of records of one
 * partition. Answers 200 `{"failures":[…]}` (empty when every record succeeded),
 * 502 when the function throws anything but a RecordError or the event is malformed.
 */
export function handleBatch<V = Buffer>(fn: BatchHandler<V>, options: BatchOptions = {}): FdkServer {
  return startOrExit(batchHandler(fn, options.encoding), { ...options, inputMode: 'buffer' });
}

/** `handleBatch` that throws an FdkError instead of exiting, like `serve`. */
export async function serveBatch<V = Buffer>(fn: BatchHandler<V>, options: BatchOptions = {}): Promise<FdkServer> {
  const settings = resolveSettings(options.env ?? process.env, { ...options, inputMode: 'buffer' });
  return start(batchHandler(fn, options.encoding), settings, processLog);
}

// The FDK decodes the body per the input mode; `In` is the function's own claim
// about that value, which no runtime check could confirm, hence the double cast.
function asCallHandler<In, Out>(fn: Handler<In, Out>): CallHandler {
  return fn as unknown as Handler;
}

function startOrExit(handler: CallHandler, options: HandleOptions): FdkServer {
  // Only when the FDK is bundled into the process's entry module (a function image), never under a test runner.
  const entry = process.argv[1];
  if (entry !== undefined && pathToFileURL(entry).href === import.meta.url) installLazySourceMaps(import.meta.url);
  let settings: FdkSettings;
  try {
    settings = resolveSettings(options.env ?? process.env, options);
  } catch (error) {
    return exitWith(EXIT_BAD_CONFIG, error);
  }
  const started = start(handler, settings, processLog).catch((error: unknown) => exitWith(EXIT_LISTEN_FAILED, error));
  return { close: async () => (await started).close() };
}

async function start(handler: CallHandler, settings: FdkSettings, log: CallLog): Promise<FdkServer> {
  // All three made alike (one object shape), and two warm-up handlers taken in turn, one of them async: the optimized
  // code the warm-up leaves never saw a single handler or shape, so the function's handler does not throw it away.
  const depsFor = (h: CallHandler) => ({ settings, handler: h, log, now: Date.now });
  const deps = depsFor(handler);
  const warmUps = [depsFor(warmUpHandler), depsFor(asyncWarmUpHandler)];
  let turn = 0;
  const server = await listenOnSocket(
    settings.socket,
    (request, warmUp) => runCall(request, warmUp ? (warmUps[turn++ & 1] as typeof deps) : deps),
    log,
    { streamInput: settings.inputMode === 'stream' },
    true,
  );
  // Once the socket is out, like the warm-up calls: the first real call then finds the hooks in place.
  if (log === processLog && settings.logFrame) prepareLogFrames();
  return server;
}

/** What the FDK's own warm-up calls run (listener.ts, and the server's: agent/warm-up.ts): never the function. */
const warmUpHandler: CallHandler = () => ({ warm: true });
const asyncWarmUpHandler: CallHandler = async () => ({ warm: true });

function exitWith(code: number, error: unknown): never {
  const reason = error instanceof FdkError ? error.message : String(error);
  console.error(`fnts-fdk: ${reason}`);
  process.exit(code);
}
