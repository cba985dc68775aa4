// Names of the Fn http-stream contract (CONTRACT.md §1–2), shared by the server's agent and the FDK, and the
// annotations the API adds (§4.5), which clients read.
// No imports: the FDK is bundled into every function image, so this module must stay tiny and dependency-free.

/** Environment variables the platform sets in a function container (CONTRACT §1.1). */
export const ENV = {
  listener: 'FN_LISTENER',
  format: 'FN_FORMAT',
  type: 'FN_TYPE',
  fnId: 'FN_FN_ID',
  appId: 'FN_APP_ID',
  fnName: 'FN_FN_NAME',
  appName: 'FN_APP_NAME',
  memory: 'FN_MEMORY',
  logFrameName: 'FN_LOGFRAME_NAME',
  logFrameHeader: 'FN_LOGFRAME_HDR',
  /** Set by the fnts server: comma-separated names of the function's config keys. */
  configKeys: 'FNTS_CONFIG_KEYS',
} as const;

/** The only `FN_FORMAT` value spoken (compared case-insensitively). */
export const HTTP_STREAM_FORMAT = 'http-stream';
/** `FN_TYPE` of every fnts call. */
export const SYNC_FN_TYPE = 'sync';
/** `FN_LISTENER` must start with this. */
export const UNIX_LISTENER_PREFIX = 'unix:';
/** Where the socket directory is mounted inside the container. */
export const IOFS_MOUNT = '/tmp/iofs';
/** The socket's name in that directory (a relative symlink to the phony socket). */
export const SOCKET_NAME = 'lsnr.sock';
/** Longest socket path the kernel accepts (`sun_path` is 108 bytes including the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;
/** Suffix of the phony socket the FDK binds before symlinking the real name to it. */
export const PHONY_SOCKET_SUFFIX = '.tmp';

/** The one request the agent sends. */
export const CALL_METHOD = 'POST';
export const CALL_PATH = '/call';
/**
 * An fnts addition: `POST` here is a warm-up call, which the fnts FDK runs through its whole call path with a handler of
 * its own, never the function's, and answers 200. The server sends it only to containers of bundled node functions it
 * started ahead of calls; Fn's FDKs refuse any path but CALL_PATH.
 */
export const WARMUP_PATH = '/.fnts-warmup';

/** Header names, in canonical form (Go's, as Fn writes them). */
export const HEADER = {
  callId: 'Fn-Call-Id',
  deadline: 'Fn-Deadline',
  intent: 'Fn-Intent',
  invokeType: 'Fn-Invoke-Type',
  httpStatus: 'Fn-Http-Status',
  httpMethod: 'Fn-Http-Method',
  httpRequestUrl: 'Fn-Http-Request-Url',
  fdkVersion: 'Fn-Fdk-Version',
  fdkRuntime: 'Fn-Fdk-Runtime',
  contentType: 'Content-Type',
  contentLength: 'Content-Length',
} as const;

/** Prefix carrying the end user's HTTP headers on trigger calls, both ways. */
export const HTTP_HEADER_PREFIX = 'Fn-Http-H-';
/** `Fn-Intent` value marking a call that came through an HTTP trigger. */
export const HTTP_REQUEST_INTENT = 'httprequest';
/** `Fn-Invoke-Type` value of a call whose client does not wait (answered 202). */
export const DETACHED_INVOKE_TYPE = 'detached';

/** Hop-by-hop and expectation headers (Go's list plus Expect, canonical form); never part of a call's headers. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'Connection',
  'Expect',
  'Keep-Alive',
  'Proxy-Connection',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Te',
  'Trailer',
  'Transfer-Encoding',
  'Upgrade',
]);

/** Status codes the agent accepts on the status line (§2.2); anything else kills the container. */
export const STATUS = { ok: 200, badRequest: 400, functionFailed: 502, timedOut: 504 } as const;

/**
 * Log framing (CONTRACT §1.6): with these variables the FDK prints `\nfnts_call_id=<Fn-Call-Id>` to stdout and
 * stderr as each call starts, so output that arrives after the call ended is still tagged correctly.
 */
export const LOG_FRAME = { name: 'fnts_call_id', header: HEADER.callId } as const;

/** Annotations the server adds to functions and HTTP triggers (CONTRACT §4.5). */
export const INVOKE_ENDPOINT_ANNOTATION = 'fnproject.io/fn/invokeEndpoint';
export const HTTP_ENDPOINT_ANNOTATION = 'fnproject.io/trigger/httpEndpoint';
