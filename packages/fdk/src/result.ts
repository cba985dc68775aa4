// Function results the FDK writes without encoding them: bytes as they are
// (`rawResult`) and streams piped to the response (`streamResult`).
import { Readable } from 'node:stream';

// Symbol.for, not a class, so a result made by a second copy of the FDK bundled
// into the same function is still recognised.
const RAW_RESULT = Symbol.for('fnts.fdk.RawResult');
const STREAM_RESULT = Symbol.for('fnts.fdk.StreamResult');

/** A result written as-is, without JSON encoding. Make one with `rawResult`. */
export interface RawResult {
  readonly [RAW_RESULT]: true;
  readonly value: string | Uint8Array;
}

/** What `streamResult` accepts: a Node Readable, or any async iterable of text or bytes (a web ReadableStream is one). */
export type StreamSource = Readable | AsyncIterable<string | Uint8Array>;

/** A result piped to the response chunk by chunk. Make one with `streamResult`. */
export interface StreamResult {
  readonly [STREAM_RESULT]: true;
  readonly stream: StreamSource;
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

/**
 * Wraps a stream so the FDK pipes it to the response as it is produced, with no
 * Content-Length (chunked). Strings are written as UTF-8. If the stream fails before
 * its first chunk the call is answered 502; if it fails later the response is cut
 * off, so the platform sees a broken body rather than a short one.
 */
export function streamResult(stream: StreamSource): StreamResult {
  if (!isAsyncIterable(stream)) {
    throw new TypeError(`streamResult expects a Readable or an async iterable, got ${describeType(stream)}`);
  }
  return Object.freeze({ [STREAM_RESULT]: true as const, stream });
}

/** The stream of a result made by `streamResult`, or of a Readable returned as it is; undefined otherwise. */
export function resultStream(value: unknown): StreamSource | undefined {
  if (value instanceof Readable) return value;
  if (typeof value === 'object' && value !== null && (value as Partial<StreamResult>)[STREAM_RESULT] === true) {
    return (value as StreamResult).stream;
  }
  return undefined;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
  );
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
