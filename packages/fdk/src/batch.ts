// handleBatch's per-call logic: decode the batch event, run the function with a
// batch context, and turn its record failures into the partial batch response of
// STREAMS.md semantics 7: `{"failures":[{"offset":N,"error":"..."}]}` with status
// 200. The engine commits before the lowest failed offset, so a failure the FDK lost
// would drop a record; anything it cannot account for fails the whole batch (502).
import { decodeBatchEvent, type BatchEncoding, type BatchEvent, type BatchRecord } from './batch-event.js';
import type { CallHandler } from './call.js';
import { describeError } from './codec.js';
import { CallContext, type Context } from './context.js';
import { BatchEventError } from './errors.js';
import { DEFAULT_RESPONSE_CONTENT_TYPE } from './protocol.js';

/** One failed record in a partial batch response. */
export interface BatchFailure {
  readonly offset: number;
  readonly error: string;
}

/** What a batch function may return, and the body the FDK answers with (failures sorted by offset). */
export interface BatchResult {
  readonly failures: readonly BatchFailure[];
}

/** Anything carrying a record's offset: a BatchRecord, or a plain `{ offset }`. */
export type RecordRef = { readonly offset: number } | number;

/** The call context of a batch: the usual Context plus the batch's coordinates. */
export interface BatchContext extends Context {
  /** Stable across retries of the same offset range. */
  readonly batchId: string;
  /** 1 on first delivery, then 2, 3, … */
  readonly attempt: number;
  /** `embedded` or `kafka`. */
  readonly sourceType: string;
  readonly stream: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly trigger: { readonly id: string; readonly name: string };
  /** Marks one record failed; the batch still answers 200 and the engine redelivers from the lowest failure. */
  fail(record: RecordRef, error: unknown): void;
}

export type BatchHandler<V = Buffer> = (
  records: BatchRecord<V>[],
  ctx: BatchContext,
) => Promise<void | BatchResult> | void | BatchResult;

// Symbol.for, so a RecordError from a second copy of the FDK in the bundle still counts.
const RECORD_ERROR = Symbol.for('fnts.fdk.RecordError');

/** Thrown from a batch function: this record failed (and the batch stops here); the others before it succeeded. */
export class RecordError extends Error {
  readonly offset: number;
  readonly [RECORD_ERROR] = true;

  constructor(record: RecordRef, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RecordError';
    this.offset = offsetOf(record);
  }
}

function isRecordError(error: unknown): error is RecordError {
  return typeof error === 'object' && error !== null && (error as Partial<RecordError>)[RECORD_ERROR] === true;
}

/** The CallHandler serving `fn`; it expects the body as a Buffer (input mode `buffer`). */
export function batchHandler<V>(fn: BatchHandler<V>, expected?: BatchEncoding): CallHandler {
  return async (input, ctx) => {
    const event = decodeBatchEvent<unknown>(input as Buffer);
    if (expected !== undefined && event.encoding !== expected) {
      throw new BatchEventError('encoding', `is '${event.encoding}', but the function expects '${expected}' (check the trigger's value encoding)`);
    }
    const failures = new Failures(event.records);
    const batchCtx = new BatchCallContext(ctx, event, failures);
    try {
      // V is the function's claim about the trigger's encoding (checked only when
      // `expected` is set), hence the cast; the copy leaves the event's array intact.
      failures.addResult(await fn([...event.records] as BatchRecord<V>[], batchCtx));
    } catch (error) {
      if (!isRecordError(error)) throw error;
      failures.add(error.offset, error.message);
    }
    // The engine reads this body as JSON whatever the function set.
    ctx.responseContentType = DEFAULT_RESPONSE_CONTENT_TYPE;
    return failures.close();
  };
}

class BatchCallContext extends CallContext implements BatchContext {
  readonly batchId: string;
  readonly attempt: number;
  readonly sourceType: string;
  readonly stream: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly trigger: { readonly id: string; readonly name: string };
  readonly #failures: Failures;

  constructor(call: CallContext, event: BatchEvent<unknown>, failures: Failures) {
    super(call); // shares the call's response headers
    this.batchId = event.batch.id;
    this.attempt = event.batch.attempt;
    this.sourceType = event.source.type;
    this.stream = event.source.stream;
    this.partition = event.source.partition;
    this.firstOffset = event.batch.firstOffset;
    this.lastOffset = event.batch.lastOffset;
    this.trigger = event.trigger;
    this.#failures = failures;
  }

  fail(record: RecordRef, error: unknown): void {
    this.#failures.add(offsetOf(record), errorText(error));
  }
}

/** The failures of one batch: only offsets of its records, the first report per offset kept. */
class Failures {
  readonly #offsets: ReadonlySet<number>;
  readonly #byOffset = new Map<number, string>();
  #closed = false;

  constructor(records: readonly BatchRecord<unknown>[]) {
    this.#offsets = new Set(records.map((record) => record.offset));
  }

  add(offset: number, error: string): void {
    // A failure reported after the answer went out can no longer change it.
    if (this.#closed) return;
    if (!this.#offsets.has(offset)) {
      throw new RangeError(`offset ${String(offset)} is not a record of this batch, so it cannot be reported as failed`);
    }
    if (!this.#byOffset.has(offset)) this.#byOffset.set(offset, error);
  }

  /** Takes in a returned `{ failures }`; anything else but undefined/null is a contract violation. */
  addResult(result: unknown): void {
    if (result === undefined || result === null) return;
    const failures = (result as Partial<BatchResult>).failures;
    if (typeof result !== 'object' || !Array.isArray(failures)) {
      throw new TypeError('a batch function must return nothing or { failures: [{ offset, error }] }');
    }
    for (const [index, failure] of (failures as unknown[]).entries()) {
      const offset = (failure as Partial<BatchFailure> | null)?.offset;
      if (typeof offset !== 'number') throw new TypeError(`failures[${index}].offset must be a record's offset`);
      this.add(offset, errorText((failure as { error?: unknown }).error ?? ''));
    }
  }

  close(): BatchResult {
    this.#closed = true;
    const failures = [...this.#byOffset].map(([offset, error]) => ({ offset, error })).sort((a, b) => a.offset - b.offset);
    return { failures };
  }
}

function offsetOf(record: RecordRef): number {
  const offset = typeof record === 'number' ? record : record?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) {
    throw new TypeError(`expected a record or its offset, got ${describeError(record)}`);
  }
  return offset;
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (isRecordError(error)) return error.message;
  return describeError(error);
}
