// Typed errors of the FDK. Only startup and batch-event decoding fail this way; a
// function's own failure is never thrown out of the FDK, it becomes a 502 answer.

export type FdkErrorCode =
  /** FN_FORMAT, FN_LISTENER or an option is missing or malformed. */
  | 'FNTS_ERR_FDK_CONFIG_INVALID'
  /** Binding, chmod-ing or symlinking the socket failed. */
  | 'FNTS_ERR_FDK_LISTEN_FAILED'
  /** A stream-trigger batch event does not have the agreed shape (decodeBatchEvent). */
  | 'FNTS_ERR_FDK_BATCH_EVENT_INVALID';

/** Base class of every error the FDK throws; `code` is stable, the message is for humans. */
export class FdkError extends Error {
  readonly code: FdkErrorCode;

  constructor(code: FdkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The environment or the options cannot work; `problems` lists every one found. */
export class FdkConfigError extends FdkError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('FNTS_ERR_FDK_CONFIG_INVALID', `invalid FDK configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** The socket could not be made ready. */
export class FdkListenError extends FdkError {
  constructor(message: string, cause: unknown) {
    super('FNTS_ERR_FDK_LISTEN_FAILED', message, { cause });
  }
}

/** A batch event is malformed; `path` names the offending field, e.g. `records[3].value`. */
export class BatchEventError extends FdkError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super('FNTS_ERR_FDK_BATCH_EVENT_INVALID', `invalid batch event: ${path === '' ? 'the event' : path} ${problem}`);
    this.path = path;
  }
}
