// One call from request to response, without sockets: decode the input, run the
// function under the deadline guard, and turn whatever happened into one of the
// three answers the agent accepts (200, 502, 504).
import { Readable } from 'node:stream';
import { decodeInput, describeError, encodeOutput, parseDeadline } from './codec.js';
import { CallContext, type Context } from './context.js';
import { LazyLogFrames } from './log-frames.js';
import { BatchEventError } from './errors.js';
import { collectRequestHeaders, wireResponseHeaders, type HeaderMap } from './headers.js';
import { HEADER, HTTP_REQUEST_INTENT, STATUS } from '@fnts/api/contract';
import { MESSAGES, fdkRuntimeHeader, fdkVersionHeader } from './protocol.js';
import { resultStream, type StreamSource } from './result.js';
import type { FdkSettings } from './settings.js';
import { openStream, type OpenedStream } from './streams.js';

/** A user function. `In` is the caller's claim about the decoded body; the FDK does not check it. */
export type Handler<In = unknown, Out = unknown> = (input: In, ctx: Context) => Out | Promise<Out>;

/** How the FDK calls a function internally: with the concrete context, which handleBatch builds on. */
export type CallHandler = (input: unknown, ctx: CallContext) => unknown;

export interface CallRequest {
  readonly rawHeaders: readonly string[];
  /** The whole body, or in stream mode the live body stream. */
  readonly body: Buffer | Readable;
}

export interface CallResponse {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Buffer;
  /** When set, the body is empty and this stream is written instead (chunked). */
  readonly stream?: OpenedStream;
}

/** Where the FDK's own messages go; injectable so tests can watch them. */
export interface CallLog {
  error(message: string, error?: unknown): void;
  /** A call began: its log frame line goes to stdout and to stderr before the next thing each prints (log-frames.ts). */
  frame(line: string): void;
}

export interface CallDeps {
  readonly settings: FdkSettings;
  readonly handler: CallHandler;
  readonly log: CallLog;
  readonly now: () => number;
}

let frames: LazyLogFrames | undefined;

/** Logs to the process's own stdout and stderr, which the platform captures per call. */
export const processLog: CallLog = {
  error: (message, error) => (error === undefined ? console.error(message) : console.error(message, error)),
  frame: (line) => (frames ??= new LazyLogFrames()).begin(line),
};

/** Installs the log-frame hooks before any call needs them (LazyLogFrames.install). */
export function prepareLogFrames(): void {
  (frames ??= new LazyLogFrames()).install();
}

// setTimeout fires at once for delays above 2^31-1 ms, so a deadline that far
// away (about 24.8 days) gets no guard at all rather than an instant 504.
const MAX_TIMER_MS = 2 ** 31 - 1;

type Outcome =
  | { ok: true; value: unknown; stream?: OpenedStream }
  | { ok: false; error: unknown; /** The function returned a stream that failed before its first chunk. */ streamFailed?: true };
const TIMED_OUT = Symbol('timed out');

/** Runs one call; never rejects, whatever the function does. */
export async function runCall(request: CallRequest, deps: CallDeps): Promise<CallResponse> {
  const { settings, log, now } = deps;
  const headers = collectRequestHeaders(request.rawHeaders);
  const deadline = parseDeadline(headers.get(HEADER.deadline)?.[0]);
  const ctx = new CallContext({ function: settings.function, headers, deadline, now });
  writeLogFrame(ctx, deps);

  const remaining = deadline && settings.deadlineGuard ? deadline.getTime() - now() : Infinity;
  if (remaining <= 0) {
    log.error(`fnts-fdk: call ${ctx.callId} arrived after its deadline ${deadline?.toISOString()}, not run`);
    return errorResponse(STATUS.timedOut, { message: MESSAGES.timedOut });
  }

  const input = Buffer.isBuffer(request.body) ? decodeInput(request.body, settings.inputMode) : request.body;
  const source: { stream?: StreamSource } = {};
  const outcome = invoke(deps.handler, input, ctx).then((result) => openResult(result, source));
  const settled = await withDeadline(outcome, remaining);
  if (settled === TIMED_OUT) {
    log.error(`fnts-fdk: call ${ctx.callId} passed its deadline ${deadline?.toISOString()}, answering 504`);
    // A result stream that stalls before its first chunk would otherwise stay open forever.
    if (source.stream instanceof Readable) source.stream.destroy();
    void outcome.then((late) => {
      if (late.ok) late.stream?.cancel();
      else log.error(`fnts-fdk: call ${ctx.callId} failed after its deadline:`, late.error);
    });
    return errorResponse(STATUS.timedOut, { message: MESSAGES.timedOut });
  }
  if (!settled.ok) return failureResponse(settled, ctx.callId, log);

  const httpTrigger = ctx.getHeader(HEADER.intent)?.trim().toLowerCase() === HTTP_REQUEST_INTENT;
  if (settled.stream) {
    const headers = wireResponseHeaders(ctx.pendingResponseHeaders(), httpTrigger);
    return { status: STATUS.ok, headers: withFdkHeaders(headers), body: EMPTY, stream: settled.stream };
  }
  const encoded = encodeOutput(settled.value, ctx.responseContentType);
  if (!encoded.ok) {
    log.error(`fnts-fdk: the result of call ${ctx.callId} cannot be written:`, encoded.error);
    return errorResponse(STATUS.functionFailed, {
      message: MESSAGES.resultNotEncodable,
      detail: describeError(encoded.error),
    });
  }
  const responseHeaders = wireResponseHeaders(ctx.pendingResponseHeaders(), httpTrigger);
  if (encoded.contentType !== undefined) responseHeaders.set(HEADER.contentType, [encoded.contentType]);
  return { status: STATUS.ok, headers: withFdkHeaders(responseHeaders), body: encoded.body };
}

const EMPTY = Buffer.alloc(0);

/** 502 for a failed call, logged with a reason that says whose fault it was. */
function failureResponse(failure: Extract<Outcome, { ok: false }>, callId: string, log: CallLog): CallResponse {
  const { error } = failure;
  const detail = describeError(error);
  if (failure.streamFailed) {
    log.error(`fnts-fdk: the result stream of call ${callId} failed before its first chunk:`, error);
    return errorResponse(STATUS.functionFailed, { message: MESSAGES.resultStreamFailed, detail });
  }
  if (error instanceof BatchEventError) {
    log.error(`fnts-fdk: call ${callId} did not carry a valid batch event: ${error.message}`);
    return errorResponse(STATUS.functionFailed, { message: MESSAGES.invalidBatchEvent, detail: error.message });
  }
  log.error(`fnts-fdk: function failed in call ${callId}:`, error);
  return errorResponse(STATUS.functionFailed, { message: MESSAGES.functionFailed, detail });
}

/** The FDK's own answer (400, 502, 504): a JSON body and the identity headers. */
export function errorResponse(status: number, body: { message: string; detail?: string }): CallResponse {
  const headers: HeaderMap = new Map([[HEADER.contentType, ['application/json']]]);
  return { status, headers: withFdkHeaders(headers), body: Buffer.from(JSON.stringify(body), 'utf8') };
}

function withFdkHeaders(headers: HeaderMap): HeaderMap {
  headers.set(HEADER.fdkVersion, [fdkVersionHeader()]);
  headers.set(HEADER.fdkRuntime, [fdkRuntimeHeader()]);
  return headers;
}

/** For a stream result, waits for its first chunk, so a stream that fails at once is still a clean 502. */
async function openResult(outcome: Outcome, source: { stream?: StreamSource }): Promise<Outcome> {
  if (!outcome.ok) return outcome;
  source.stream = resultStream(outcome.value);
  if (source.stream === undefined) return outcome;
  try {
    return { ok: true, value: outcome.value, stream: await openStream(source.stream) };
  } catch (error) {
    return { ok: false, error, streamFailed: true };
  }
}

function invoke(handler: CallHandler, input: unknown, ctx: CallContext): Promise<Outcome> {
  try {
    return Promise.resolve(handler(input, ctx)).then(
      (value): Outcome => ({ ok: true, value }),
      (error: unknown): Outcome => ({ ok: false, error }),
    );
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
}

async function withDeadline(outcome: Promise<Outcome>, remainingMs: number): Promise<Outcome | typeof TIMED_OUT> {
  if (remainingMs > MAX_TIMER_MS) return outcome;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), remainingMs);
  });
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function writeLogFrame(ctx: Context, deps: CallDeps): void {
  const frame = deps.settings.logFrame;
  if (!frame) return;
  // Like fdk-go: no frame when the header is missing, rather than fdk-node's `NAME=null`.
  const value = ctx.getHeader(frame.header);
  if (value !== null && value !== '') deps.log.frame(`\n${frame.name}=${value}\n`);
}
