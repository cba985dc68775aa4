// A function result written byte-for-byte, whatever the response content type.

// Symbol.for, not a class, so a result made by a second copy of the FDK bundled
// into the same function is still recognised.
const RAW_RESULT = Symbol.for('fnts.fdk.RawResult');

/** A result written as-is, without JSON encoding. Make one with `rawResult`. */
export interface RawResult {
  readonly [RAW_RESULT]: true;
  readonly value: string | Uint8Array;
}

/** Wraps a string or bytes so the FDK writes them unchanged (a string as UTF-8). */
export function rawResult(value: string | Uint8Array): RawResult {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new TypeError(`rawResult expects a string or a Uint8Array/Buffer, got ${describeType(value)}`);
  }
  return Object.freeze({ [RAW_RESULT]: true as const, value });
}

/** True for values made by `rawResult`. */
export function isRawResult(value: unknown): value is RawResult {
  return typeof value === 'object' && value !== null && (value as Partial<RawResult>)[RAW_RESULT] === true;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
