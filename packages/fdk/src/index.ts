// Public API of the fnts FDK: serve a function over the Fn http-stream contract.
import { processLog, runCall, type CallLog, type Handler } from './call.js';
import { FdkError } from './errors.js';
import { listenOnSocket, type FdkServer } from './listener.js';
import { resolveSettings, type FdkSettings, type HandleOptions } from './settings.js';

export type { InputMode } from './codec.js';
export type { Context, HttpGateway } from './context.js';
export type { Handler } from './call.js';
export type { HeaderRecord } from './headers.js';
export type { FdkServer } from './listener.js';
export type { HandleOptions } from './settings.js';
export type { RawResult } from './result.js';
export { rawResult } from './result.js';
export { FdkError, FdkConfigError, FdkListenError, type FdkErrorCode } from './errors.js';
export { FDK_VERSION } from './protocol.js';

// Exit codes of fdk-node: 2 for a bad environment, 3 when the server cannot run.
const EXIT_BAD_CONFIG = 2;
const EXIT_LISTEN_FAILED = 3;

/**
 * Serves `fn` on the socket named by `FN_LISTENER`; call once at startup. On a bad
 * environment it logs why and exits with code 2 (3 if the socket cannot be made).
 */
export function handle<In = unknown, Out = unknown>(fn: Handler<In, Out>, options: HandleOptions = {}): FdkServer {
  let settings: FdkSettings;
  try {
    settings = resolveSettings(options.env ?? process.env, options);
  } catch (error) {
    return exitWith(EXIT_BAD_CONFIG, error);
  }
  const started = start(fn, settings, processLog).catch((error: unknown) => exitWith(EXIT_LISTEN_FAILED, error));
  return { close: async () => (await started).close() };
}

/**
 * Like `handle`, but throws an FdkError instead of exiting; resolves once the
 * socket is published. For tests and for embedding.
 */
export async function serve<In = unknown, Out = unknown>(
  fn: Handler<In, Out>,
  options: HandleOptions = {},
): Promise<FdkServer> {
  return start(fn, resolveSettings(options.env ?? process.env, options), processLog);
}

function start<In, Out>(fn: Handler<In, Out>, settings: FdkSettings, log: CallLog): Promise<FdkServer> {
  // The FDK decodes the body per the input mode; `In` is the function's own claim
  // about that value, which no runtime check could confirm, hence the double cast.
  const handler = fn as unknown as Handler;
  return listenOnSocket(settings.socket, (request) => runCall(request, { settings, handler, log, now: Date.now }), log);
}

function exitWith(code: number, error: unknown): never {
  const reason = error instanceof FdkError ? error.message : String(error);
  console.error(`fnts-fdk: ${reason}`);
  process.exit(code);
}
