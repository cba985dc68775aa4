// One call from request to response, without sockets: decode the input, run the
// function under the deadline guard, and turn whatever happened into one of the
// three answers the agent accepts (200, 502, 504).
import { decodeInput, describeError, encodeOutput, parseDeadline } from './codec.js';
import { CallContext, type Context } from './context.js';
import { collectRequestHeaders, wireResponseHeaders, type HeaderMap } from './headers.js';
import {
  HEADER,
  HTTP_REQUEST_INTENT,
  MESSAGES,
  STATUS,
  fdkRuntimeHeader,
  fdkVersionHeader,
} from './protocol.js';
import type { FdkSettings } from './settings.js';

/** A user function. `In` is the caller's claim about the decoded body; the FDK does not check it. */
export type Handler<In = unknown, Out = unknown> = (input: In, ctx: Context) => Out | Promise<Out>;

export interface CallRequest {
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export interface CallResponse {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Buffer;
}

/** Where the FDK's own messages go; injectable so tests can watch them. */
export interface CallLog {
  error(message: string, error?: unknown): void;
  /** Writes a log frame line to both stdout and stderr. */
  frame(line: string): void;
}

export interface CallDeps {
  readonly settings: FdkSettings;
  readonly handler: Handler;
  readonly log: CallLog;
  readonly now: () => number;
}

/** Logs to the process's own stdout and stderr, which the platform captures per call. */
export const processLog: CallLog = {
  error: (message, error) => (error === undefined ? console.error(message) : console.error(message, error)),
  frame: (line) => {
    process.stdout.write(line);
    process.stderr.write(line);
  },
};

// setTimeout fires at once for delays above 2^31-1 ms, so a deadline that far
// away (about 24.8 days) gets no guard at all rather than an instant 504.
const MAX_TIMER_MS = 2 ** 31 - 1;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
const TIMED_OUT = Symbol('timed out');

/** Runs one call; never rejects, whatever the function does. */
export async function runCall(request: CallRequest, deps: CallDeps): Promise<CallResponse> {
  const { settings, log, now } = deps;
  const headers = collectRequestHeaders(request.rawHeaders);
  const deadline = parseDeadline(headers.get(HEADER.deadline)?.[0]);
  const ctx = new CallContext({ function: settings.function, headers, deadline, now });
  writeLogFrame(ctx, deps);

  const remaining = deadline ? deadline.getTime() - now() : Infinity;
  if (remaining <= 0) {
    log.error(`fnts-fdk: call ${ctx.callId} arrived after its deadline ${deadline?.toISOString()}, not run`);
    return errorResponse(STATUS.timedOut, { message: MESSAGES.timedOut });
  }

  const outcome = invoke(deps.handler, decodeInput(request.body, settings.inputMode), ctx);
  const settled = await withDeadline(outcome, remaining);
  if (settled === TIMED_OUT) {
    log.error(`fnts-fdk: call ${ctx.callId} passed its deadline ${deadline?.toISOString()}, answering 504`);
    void outcome.then((late) => {
      if (!late.ok) log.error(`fnts-fdk: call ${ctx.callId} failed after its deadline:`, late.error);
    });
    return errorResponse(STATUS.timedOut, { message: MESSAGES.timedOut });
  }
  if (!settled.ok) {
    log.error(`fnts-fdk: function failed in call ${ctx.callId}:`, settled.error);
    return errorResponse(STATUS.functionFailed, {
      message: MESSAGES.functionFailed,
      detail: describeError(settled.error),
    });
  }

  const encoded = encodeOutput(settled.value, ctx.responseContentType);
  if (!encoded.ok) {
    log.error(`fnts-fdk: the result of call ${ctx.callId} cannot be written:`, encoded.error);
    return errorResponse(STATUS.functionFailed, {
      message: MESSAGES.resultNotEncodable,
      detail: describeError(encoded.error),
    });
  }
  const httpTrigger = ctx.getHeader(HEADER.intent)?.trim().toLowerCase() === HTTP_REQUEST_INTENT;
  const responseHeaders = wireResponseHeaders(ctx.pendingResponseHeaders(), httpTrigger);
  if (encoded.contentType !== undefined) responseHeaders.set(HEADER.contentType, [encoded.contentType]);
  return { status: STATUS.ok, headers: withFdkHeaders(responseHeaders), body: encoded.body };
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

function invoke(handler: Handler, input: unknown, ctx: Context): Promise<Outcome> {
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
