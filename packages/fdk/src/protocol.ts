// Names and constants of the Fn http-stream contract (CONTRACT.md §1–2), kept in
// one place so the rest of the FDK never spells a header or variable twice.

/** Version of this FDK, sent in `Fn-Fdk-Version`; a test keeps it equal to package.json. */
export const FDK_VERSION = '0.1.0';

/** Environment variables read by the FDK. */
export const ENV = {
  listener: 'FN_LISTENER',
  format: 'FN_FORMAT',
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

/** The only `FN_FORMAT` value the FDK speaks (compared case-insensitively). */
export const HTTP_STREAM_FORMAT = 'http-stream';
/** `FN_LISTENER` must start with this. */
export const UNIX_LISTENER_PREFIX = 'unix:';
/** Longest socket path the kernel accepts (`sun_path` is 108 bytes including the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;
/** Suffix of the phony socket the FDK binds before symlinking the real name to it. */
export const PHONY_SOCKET_SUFFIX = '.tmp';

/** The one request the agent sends. */
export const CALL_METHOD = 'POST';
export const CALL_PATH = '/call';

/** Header names, in canonical form (see canonicalHeaderName). */
export const HEADER = {
  callId: 'Fn-Call-Id',
  deadline: 'Fn-Deadline',
  intent: 'Fn-Intent',
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

/** Hop-by-hop headers (Go's list, canonical form); never part of a call's headers. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'Connection',
  'Keep-Alive',
  'Proxy-Connection',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Te',
  'Trailer',
  'Transfer-Encoding',
  'Upgrade',
]);

export const DEFAULT_RESPONSE_CONTENT_TYPE = 'application/json';

/** Status codes the agent accepts on the status line (§2.2); anything else kills the container. */
export const STATUS = { ok: 200, badRequest: 400, functionFailed: 502, timedOut: 504 } as const;

/** Bodies of the FDK's own answers; texts match fdk-node where it has one. */
export const MESSAGES = {
  functionFailed: 'Exception in function, consult logs for details',
  resultNotEncodable: 'Function result could not be encoded, consult logs for details',
  resultStreamFailed: 'Function result stream failed, consult logs for details',
  invalidBatchEvent: 'Invalid batch event, consult logs for details',
  timedOut: 'Timed out',
  invalidMethod: 'Invalid method',
  badRequest: 'Bad request',
} as const;

/** `Fn-Fdk-Version` value, e.g. `fnts-fdk/0.1.0 (njsv=v20.20.2)`. */
export function fdkVersionHeader(nodeVersion: string = process.version): string {
  return `fnts-fdk/${FDK_VERSION} (njsv=${nodeVersion})`;
}

/** `Fn-Fdk-Runtime` value, e.g. `node/20.20.2`. */
export function fdkRuntimeHeader(nodeVersion: string = process.version): string {
  return `node/${nodeVersion.replace(/^v/, '')}`;
}
