import { API_ERRORS, type ApiErrorCode, type ApiErrorName } from '@fnts/api/errors';

/** Typed platform errors: every one carries an HTTP status and a stable code; one mapping turns them into responses. */
export class FntsError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** What the function itself said about its failure (the FDK's error detail), bounded; answered as `detail`. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'FntsError';
  }

  /** The same error without the function's own words: for callers who must not see a function's internals. */
  withoutDetail(): FntsError {
    return this.detail === undefined ? this : new FntsError(this.status, this.code, this.message, this.headers);
  }
}

/** An error of the registry (@fnts/api), with its code and status, and the message given. */
const make = (name: ApiErrorName) => (message: string, headers?: Record<string, string>) =>
  new FntsError(API_ERRORS[name].status, API_ERRORS[name].code, message, headers);
/** The same with a fixed message. */
const fixed = (name: ApiErrorName, message: string, headers?: Record<string, string>) => () => make(name)(message, headers);

/** The error factories. Codes and statuses come from the registry; messages follow Fn's texts where Fn has one. */
export const errors = {
  invalidJson: make('invalidJson'),
  validation: make('validation'),
  idMismatch: make('idMismatch'),
  badUrl: make('badUrl'),
  badRequest: make('badRequest'),
  appNotFound: fixed('appNotFound', 'App not found'),
  fnNotFound: fixed('fnNotFound', 'Fn not found'),
  triggerNotFound: fixed('triggerNotFound', 'Trigger not found'),
  streamNotFound: fixed('streamNotFound', 'Stream not found'),
  streamTriggerNotRunning: (source: string) =>
    make('streamTriggerNotRunning')(`the trigger is not running: its source "${source}" is missing`),
  embeddedStreamsUnavailable: fixed('embeddedStreamsUnavailable',
    'embedded streams are not available with the PostgreSQL store (they live in one server\'s SQLite file, and several ' +
    'servers share this database): use a Kafka topic as the stream trigger\'s source, kafka://<broker:port>/<topic>'),
  kafkaUnavailable: make('kafkaUnavailable'),
  kafkaClientMissing: make('kafkaClientMissing'),
  conflict: make('conflict'),
  pathNotFound: make('pathNotFound'),
  methodNotAllowed: make('methodNotAllowed'),
  payloadTooLarge: make('payloadTooLarge'),
  // API keys (api/auth.ts): 401 carries the challenge RFC 6750 asks for; 403 is a valid key without the scope.
  authMissing: fixed('authMissing', 'an API key is required: send it as Authorization: Bearer <key>', {
    'WWW-Authenticate': 'Bearer realm="fnts"',
  }),
  authInvalid: fixed('authInvalid', 'the API key is not valid', { 'WWW-Authenticate': 'Bearer realm="fnts", error="invalid_token"' }),
  authScope: (scope: string, needed: string) => make('authScope')(`this API key has scope "${scope}"; this request needs "${needed}"`),
  bodyTimeout: (ms: number) => make('bodyTimeout')(`the request body did not arrive within ${ms} ms`, { Connection: 'close' }),
  // Call outcomes: a function's failure is a result of the call, reported with these.
  /** `detail`: the function's error message as its FDK reported it (fdk-error.ts bounds it). */
  functionFailed: (detail?: string) =>
    new FntsError(API_ERRORS.functionFailed.status, API_ERRORS.functionFailed.code, 'function failed', {}, detail),
  invalidResponse: (detail?: string) => make('invalidResponse')('invalid function response' + (detail ? `: ${detail}` : '')),
  receiveFailed: (cause?: string) =>
    make('receiveFailed')(cause ? `error receiving function response: ${cause}` : 'error receiving function response'),
  timedOut: fixed('timedOut', 'Timed out'),
  containerInitFailed: (detail?: string) =>
    make('containerInitFailed')(
      'Container failed to initialize, please ensure you are using the latest fdk and check the logs' +
        (detail ? ` (${detail})` : ''),
    ),
  containerInitTimeout: fixed(
    'containerInitTimeout',
    'Container initialization timed out, please ensure you are using the latest fdk and check the logs',
  ),
  imageNotFound: (image: string) =>
    make('imageNotFound')(
      `Failed to pull image '${image}': no such image on this Docker engine; build it here with \`fnts deploy\`, or start the server with FNTS_IMAGE_PULL=missing to pull it from its registry`,
    ),
  /** `status`: the registry's refusal (4xx) passes through; anything else is the registry's 502. */
  imagePullFailed: (image: string, status: number, cause: string) =>
    new FntsError(status, API_ERRORS.imagePullFailed.code, `Failed to pull image '${image}': ${cause}`),
  imagePullTimeout: fixed('imagePullTimeout', 'Image pull timed out'),
  serverBusy: fixed('serverBusy', 'Timed out - server too busy', { 'Retry-After': '15' }),
  detachedQueueFull: (max: number) =>
    make('detachedQueueFull')(`too many detached calls are waiting to run (${max}); try again later`, { 'Retry-After': '15' }),
  callNotFound: fixed('callNotFound', 'Call not found'),
  storeUnavailable: fixed('storeUnavailable', 'The database cannot be reached; try again later', { 'Retry-After': '5' }),
  callLogNotKept: fixed(
    'callLogNotKept',
    'the output of this call is no longer kept: it rotated out of the function\'s recent output (FNTS_LOG_RING_BYTES), or the server restarted since',
  ),
  internal: fixed('internal', 'internal server error'),
} as const;

export function isFntsError(err: unknown): err is FntsError {
  return err instanceof FntsError;
}

/** A caller that went away gets no response; Fn logs this as status 444. */
export class ClientGoneError extends FntsError {
  constructor() {
    super(API_ERRORS.clientGone.status, API_ERRORS.clientGone.code, 'client closed the request');
  }
}
