// The server's error codes, one typed registry: each stable code with the HTTP status it answers with.
// Dependency-free so that clients can import the codes without the schemas.

/** One entry of the registry. */
export interface ErrorSpec {
  /** Stable code, `FNTS_ERR_<AREA>_<CONDITION>`: what clients branch on. */
  readonly code: string;
  /** The HTTP status it is answered with (a registry default where the cause decides, see imagePullFailed). */
  readonly status: number;
  /** When it happens, for the API's documentation. */
  readonly description: string;
}

/** Every error the server answers with, by name. Codes never change; statuses follow Fn where Fn has the error. */
export const API_ERRORS = {
  invalidJson: { code: 'FNTS_ERR_API_INVALID_JSON', status: 400, description: 'the body is not JSON, or a field has the wrong type' },
  validation: { code: 'FNTS_ERR_API_VALIDATION', status: 400, description: 'a field has a value the API does not accept' },
  idMismatch: { code: 'FNTS_ERR_API_ID_MISMATCH', status: 400, description: 'the id in the body is not the one in the path' },
  badUrl: { code: 'FNTS_ERR_API_BAD_URL', status: 400, description: 'the URL could not be decoded' },
  badRequest: { code: 'FNTS_ERR_API_BAD_REQUEST', status: 400, description: 'the request was refused by the HTTP layer' },
  pathNotFound: { code: 'FNTS_ERR_API_PATH_NOT_FOUND', status: 404, description: 'no route has this path' },
  methodNotAllowed: { code: 'FNTS_ERR_API_METHOD_NOT_ALLOWED', status: 405, description: 'the path exists, but not with this method' },
  conflict: { code: 'FNTS_ERR_API_CONFLICT', status: 409, description: 'the name is taken, immutable, or the resource is in use' },
  payloadTooLarge: { code: 'FNTS_ERR_API_PAYLOAD_TOO_LARGE', status: 413, description: 'the body is larger than the limit' },
  bodyTimeout: { code: 'FNTS_ERR_API_BODY_TIMEOUT', status: 408, description: 'the request body did not arrive within the body-read deadline' },
  authMissing: { code: 'FNTS_ERR_AUTH_MISSING', status: 401, description: 'the server has API keys and the request carries none' },
  authInvalid: { code: 'FNTS_ERR_AUTH_INVALID', status: 401, description: 'the API key is unknown or the Authorization header is malformed' },
  authScope: { code: 'FNTS_ERR_AUTH_SCOPE', status: 403, description: 'the API key is valid but its scope does not cover this request' },
  appNotFound: { code: 'FNTS_ERR_APP_NOT_FOUND', status: 404, description: 'no app has this id or name' },
  fnNotFound: { code: 'FNTS_ERR_FN_NOT_FOUND', status: 404, description: 'no function has this id' },
  triggerNotFound: { code: 'FNTS_ERR_TRIGGER_NOT_FOUND', status: 404, description: 'no trigger has this id or source' },
  streamNotFound: { code: 'FNTS_ERR_STREAM_NOT_FOUND', status: 404, description: 'no stream has this name or id' },
  streamTriggerNotRunning: {
    code: 'FNTS_ERR_STREAM_TRIGGER_NOT_RUNNING', status: 409, description: 'the stream trigger is not running: its source is missing',
  },
  embeddedStreamsUnavailable: {
    code: 'FNTS_ERR_STREAM_EMBEDDED_UNAVAILABLE', status: 501,
    description: 'embedded streams need the SQLite store; a server on PostgreSQL takes Kafka topics (kafka://) as stream sources',
  },
  kafkaUnavailable: { code: 'FNTS_ERR_KAFKA_UNAVAILABLE', status: 503, description: 'the Kafka brokers could not be reached' },
  kafkaClientMissing: {
    code: 'FNTS_ERR_KAFKA_CLIENT_MISSING', status: 501,
    description: 'the server has no Kafka client: the optional dependency @confluentinc/kafka-javascript is not installed',
  },
  functionFailed: { code: 'FNTS_ERR_CALL_FUNCTION_FAILED', status: 502, description: 'the function answered with an error' },
  invalidResponse: { code: 'FNTS_ERR_CALL_INVALID_RESPONSE', status: 502, description: 'the function broke the http-stream contract' },
  receiveFailed: { code: 'FNTS_ERR_CALL_RECEIVE_FAILED', status: 502, description: 'the function\'s answer could not be read' },
  timedOut: { code: 'FNTS_ERR_CALL_TIMEOUT', status: 504, description: 'the function ran past its timeout' },
  clientGone: { code: 'FNTS_ERR_CALL_CLIENT_GONE', status: 444, description: 'the caller went away (logged, never answered)' },
  containerInitFailed: { code: 'FNTS_ERR_CONTAINER_INIT_FAILED', status: 502, description: 'the container did not start serving' },
  containerInitTimeout: { code: 'FNTS_ERR_CONTAINER_INIT_TIMEOUT', status: 504, description: 'the container took too long to start' },
  imageNotFound: { code: 'FNTS_ERR_IMAGE_NOT_FOUND', status: 404, description: 'the function\'s image is not on this Docker engine' },
  imagePullFailed: { code: 'FNTS_ERR_IMAGE_PULL_FAILED', status: 502, description: 'the image could not be pulled (4xx: the registry refused)' },
  imagePullTimeout: { code: 'FNTS_ERR_IMAGE_PULL_TIMEOUT', status: 504, description: 'the image pull took too long' },
  serverBusy: { code: 'FNTS_ERR_SERVER_BUSY', status: 503, description: 'every container is busy and the queue is full; retry later' },
  detachedQueueFull: { code: 'FNTS_ERR_CALL_QUEUE_FULL', status: 503, description: 'too many detached calls are waiting to run; retry later' },
  callNotFound: { code: 'FNTS_ERR_CALL_NOT_FOUND', status: 404, description: 'no call record has this id for the function' },
  storeUnavailable: { code: 'FNTS_ERR_STORE_UNAVAILABLE', status: 503, description: 'the database cannot be reached; retry later' },
  callLogNotKept: {
    code: 'FNTS_ERR_CALL_LOG_NOT_KEPT', status: 404,
    description: 'the call\'s output is no longer kept: it rotated out of the function\'s recent output, or the server restarted since',
  },
  partitionState: { code: 'FNTS_ERR_STREAM_PARTITION_STATE', status: 500, description: 'the stream engine refused a partition state change (a bug)' },
  internal: { code: 'FNTS_ERR_INTERNAL', status: 500, description: 'a fault of the server' },
} as const satisfies Record<string, ErrorSpec>;

export type ApiErrorName = keyof typeof API_ERRORS;
/** A code the server may answer with. */
export type ApiErrorCode = (typeof API_ERRORS)[ApiErrorName]['code'];

/** The codes by name, for comparisons: `err.code === ERROR_CODE.timedOut`. */
export const ERROR_CODE = Object.fromEntries(Object.entries(API_ERRORS).map(([name, e]) => [name, e.code])) as {
  readonly [N in ApiErrorName]: (typeof API_ERRORS)[N]['code'];
};

/** Every code, in registry order. */
export const API_ERROR_CODES: readonly ApiErrorCode[] = Object.values(API_ERRORS).map((e) => e.code);
