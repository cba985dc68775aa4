/** Typed platform errors: every one carries an HTTP status and a stable code; one mapping turns them into responses. */
export class FntsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'FntsError';
  }
}

const make = (status: number, code: string) => (message: string, headers?: Record<string, string>) =>
  new FntsError(status, code, message, headers);

/** The error registry. Codes are stable; messages follow Fn's texts where Fn has one. */
export const errors = {
  invalidJson: make(400, 'FNTS_ERR_API_INVALID_JSON'),
  validation: make(400, 'FNTS_ERR_API_VALIDATION'),
  idMismatch: make(400, 'FNTS_ERR_API_ID_MISMATCH'),
  appNotFound: () => new FntsError(404, 'FNTS_ERR_APP_NOT_FOUND', 'App not found'),
  fnNotFound: () => new FntsError(404, 'FNTS_ERR_FN_NOT_FOUND', 'Fn not found'),
  triggerNotFound: () => new FntsError(404, 'FNTS_ERR_TRIGGER_NOT_FOUND', 'Trigger not found'),
  streamNotFound: () => new FntsError(404, 'FNTS_ERR_STREAM_NOT_FOUND', 'Stream not found'),
  streamTriggerNotRunning: (source: string) =>
    new FntsError(409, 'FNTS_ERR_STREAM_TRIGGER_NOT_RUNNING', `the trigger is not running: its source "${source}" is missing`),
  conflict: make(409, 'FNTS_ERR_API_CONFLICT'),
  pathNotFound: make(404, 'FNTS_ERR_API_PATH_NOT_FOUND'),
  methodNotAllowed: make(405, 'FNTS_ERR_API_METHOD_NOT_ALLOWED'),
  payloadTooLarge: make(413, 'FNTS_ERR_API_PAYLOAD_TOO_LARGE'),
  // API keys (api/auth.ts): 401 carries the challenge RFC 6750 asks for; 403 is a valid key without the scope.
  authMissing: () =>
    new FntsError(401, 'FNTS_ERR_AUTH_MISSING', 'an API key is required: send it as Authorization: Bearer <key>', {
      'WWW-Authenticate': 'Bearer realm="fnts"',
    }),
  authInvalid: () =>
    new FntsError(401, 'FNTS_ERR_AUTH_INVALID', 'the API key is not valid', {
      'WWW-Authenticate': 'Bearer realm="fnts", error="invalid_token"',
    }),
  authScope: (scope: string, needed: string) =>
    new FntsError(403, 'FNTS_ERR_AUTH_SCOPE', `this API key has scope "${scope}"; this request needs "${needed}"`),
  bodyTimeout: (ms: number) =>
    new FntsError(408, 'FNTS_ERR_API_BODY_TIMEOUT', `the request body did not arrive within ${ms} ms`, { Connection: 'close' }),
  // Call outcomes: a function's failure is a result of the call, reported with these.
  functionFailed: () => new FntsError(502, 'FNTS_ERR_CALL_FUNCTION_FAILED', 'function failed'),
  invalidResponse: (detail?: string) =>
    new FntsError(502, 'FNTS_ERR_CALL_INVALID_RESPONSE', 'invalid function response' + (detail ? `: ${detail}` : '')),
  receiveFailed: (cause?: string) =>
    new FntsError(
      502,
      'FNTS_ERR_CALL_RECEIVE_FAILED',
      cause ? `error receiving function response: ${cause}` : 'error receiving function response',
    ),
  timedOut: () => new FntsError(504, 'FNTS_ERR_CALL_TIMEOUT', 'Timed out'),
  containerInitFailed: (detail?: string) =>
    new FntsError(
      502,
      'FNTS_ERR_CONTAINER_INIT_FAILED',
      'Container failed to initialize, please ensure you are using the latest fdk and check the logs' +
        (detail ? ` (${detail})` : ''),
    ),
  containerInitTimeout: () =>
    new FntsError(
      504,
      'FNTS_ERR_CONTAINER_INIT_TIMEOUT',
      'Container initialization timed out, please ensure you are using the latest fdk and check the logs',
    ),
  imageNotFound: (image: string) =>
    new FntsError(
      404,
      'FNTS_ERR_IMAGE_NOT_FOUND',
      `Failed to pull image '${image}': no such image on this Docker engine; build it here with \`fnts deploy\`, or start the server with FNTS_IMAGE_PULL=missing to pull it from its registry`,
    ),
  imagePullFailed: (image: string, status: number, cause: string) =>
    new FntsError(status, 'FNTS_ERR_IMAGE_PULL_FAILED', `Failed to pull image '${image}': ${cause}`),
  imagePullTimeout: () => new FntsError(504, 'FNTS_ERR_IMAGE_PULL_TIMEOUT', 'Image pull timed out'),
  serverBusy: () =>
    new FntsError(503, 'FNTS_ERR_SERVER_BUSY', 'Timed out - server too busy', { 'Retry-After': '15' }),
  detachedQueueFull: (max: number) =>
    new FntsError(503, 'FNTS_ERR_CALL_QUEUE_FULL', `too many detached calls are waiting to run (${max}); try again later`, {
      'Retry-After': '15',
    }),
  callNotFound: () => new FntsError(404, 'FNTS_ERR_CALL_NOT_FOUND', 'Call not found'),
  internal: () => new FntsError(500, 'FNTS_ERR_INTERNAL', 'internal server error'),
} as const;

export function isFntsError(err: unknown): err is FntsError {
  return err instanceof FntsError;
}

/** A caller that went away gets no response; Fn logs this as status 444. */
export class ClientGoneError extends FntsError {
  constructor() {
    super(444, 'FNTS_ERR_CALL_CLIENT_GONE', 'client closed the request');
  }
}
