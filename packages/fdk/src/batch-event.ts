// The stream-trigger batch event (STREAMS.md "Event shape"): its JSON form as the
// server sends it, its decoded form as a function sees it, and a strict, pure
// decoder. Strict because a malformed event is a platform bug that must surface as
// a failed batch with a clear message, never as records quietly misread.
import { BatchEventError } from './errors.js';

/** How keys and values travel: `base64` bytes (default), `utf8` text, or `json` values embedded in the event. */
export type BatchEncoding = 'base64' | 'utf8' | 'json';
export const BATCH_ENCODINGS: readonly BatchEncoding[] = ['base64', 'utf8', 'json'];

/** One record as the server sends it. */
export interface BatchRecordWire {
  offset: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  timestampType?: string;
  /** base64 or utf8: a string or null (absent means null). json: UTF-8 text or null — keys are identifiers, seldom JSON. */
  key?: string | null;
  /** base64 or utf8: a string, or null for a record without a value (a Kafka tombstone). json: any JSON value, embedded as is. */
  value: unknown;
  /** Header name → UTF-8 text, or base64 text for the names listed in `binaryHeaders`. */
  headers?: Record<string, string>;
  binaryHeaders?: string[];
}

/** The body of a stream-trigger call as the server sends it. */
export interface BatchEventWire {
  source: { type: string; stream: string; partition: number };
  batch: { id: string; attempt: number; firstOffset: number; lastOffset: number };
  trigger: { id: string; name: string };
  /** Absent means `base64`. */
  encoding?: BatchEncoding;
  records: BatchRecordWire[];
}

/** The key's type for a value type V: bytes when values are bytes (base64), text otherwise. */
export type BatchKey<V> = unknown extends V ? Buffer | string : [V] extends [Uint8Array] ? Buffer : string;

/** One decoded record. */
export interface BatchRecord<V = Buffer> {
  readonly offset: number;
  readonly timestamp: Date;
  /** As the source reports it, e.g. Kafka's `CREATE_TIME`; undefined when not sent. */
  readonly timestampType: string | undefined;
  readonly key: BatchKey<V> | null;
  /** Buffer (base64), string (utf8) or the parsed JSON value (json); null for a record without a value. */
  readonly value: V | null;
  /** Text headers as strings; those the server flagged binary as Buffers. */
  readonly headers: Readonly<Record<string, string | Buffer>>;
  /** `<stream>/<partition>/<offset>`: the same on every redelivery, for deduplication. */
  readonly idempotencyKey: string;
}

/** A decoded batch event. `V` is the caller's claim about the value type, which the decoder cannot check. */
export interface BatchEvent<V = Buffer> {
  readonly source: { readonly type: string; readonly stream: string; readonly partition: number };
  readonly batch: { readonly id: string; readonly attempt: number; readonly firstOffset: number; readonly lastOffset: number };
  readonly trigger: { readonly id: string; readonly name: string };
  readonly encoding: BatchEncoding;
  readonly records: readonly BatchRecord<V>[];
}

type Json = Record<string, unknown>;

/**
 * Decodes and validates a batch event: the JSON text or bytes, or an already
 * parsed object. Throws BatchEventError naming the first bad field. Records must
 * lie within `firstOffset..lastOffset` in strictly ascending order.
 */
export function decodeBatchEvent<V = Buffer>(event: string | Uint8Array | object): BatchEvent<V> {
  const root = object(parseIfText(event), '');
  const source = object(root['source'], 'source');
  const batch = object(root['batch'], 'batch');
  const trigger = object(root['trigger'], 'trigger');
  const decoded = {
    source: {
      type: text(source['type'], 'source.type'),
      stream: text(source['stream'], 'source.stream'),
      partition: count(source['partition'], 'source.partition'),
    },
    batch: {
      id: text(batch['id'], 'batch.id'),
      attempt: count(batch['attempt'], 'batch.attempt', 1),
      firstOffset: count(batch['firstOffset'], 'batch.firstOffset'),
      lastOffset: count(batch['lastOffset'], 'batch.lastOffset'),
    },
    trigger: { id: text(trigger['id'], 'trigger.id'), name: text(trigger['name'], 'trigger.name') },
    encoding: encoding(root['encoding']),
  };
  if (!Array.isArray(root['records'])) throw new BatchEventError('records', 'must be an array');
  const records = (root['records'] as unknown[]).map((record, index) =>
    decodeRecord(record, `records[${index}]`, decoded.encoding, decoded.source),
  );
  checkOffsets(records, decoded.batch);
  // Frozen, so a function cannot change an offset it later reports as failed. Buffers
  // and parsed JSON values stay the function's own to use as it likes.
  for (const part of [decoded.source, decoded.batch, decoded.trigger]) Object.freeze(part);
  return Object.freeze({ ...decoded, records: Object.freeze(records as unknown as BatchRecord<V>[]) });
}

function parseIfText(event: string | Uint8Array | object): unknown {
  if (typeof event !== 'string' && !(event instanceof Uint8Array)) return event;
  const json = typeof event === 'string' ? event : Buffer.from(event.buffer, event.byteOffset, event.byteLength).toString('utf8');
  try {
    return JSON.parse(json) as unknown;
  } catch (error) {
    throw new BatchEventError('', `is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

function decodeRecord(
  input: unknown,
  path: string,
  encoding: BatchEncoding,
  source: { stream: string; partition: number },
): BatchRecord<unknown> {
  const record = object(input, path);
  const offset = count(record['offset'], `${path}.offset`);
  const timestamp = record['timestamp'];
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
    throw new BatchEventError(`${path}.timestamp`, 'must be a number of milliseconds since the epoch');
  }
  const timestampType = record['timestampType'];
  if (timestampType !== undefined && typeof timestampType !== 'string') {
    throw new BatchEventError(`${path}.timestampType`, 'must be a string when present');
  }
  return Object.freeze({
    offset,
    timestamp: new Date(timestamp),
    timestampType,
    key: decodeKey(record['key'], `${path}.key`, encoding),
    value: decodeValue(record, `${path}.value`, encoding),
    headers: decodeHeaders(record['headers'], record['binaryHeaders'], path),
    idempotencyKey: `${source.stream}/${source.partition}/${offset}`,
  });
}

function decodeKey(key: unknown, path: string, encoding: BatchEncoding): Buffer | string | null {
  if (key === undefined || key === null) return null;
  if (typeof key !== 'string') throw new BatchEventError(path, 'must be a string or null');
  return encoding === 'base64' ? base64(key, path) : key;
}

function decodeValue(record: Json, path: string, encoding: BatchEncoding): unknown {
  if (!Object.hasOwn(record, 'value')) throw new BatchEventError(path, 'is missing');
  const value = record['value'];
  if (encoding === 'json' || value === null) return value;
  if (typeof value !== 'string') throw new BatchEventError(path, `must be a string or null under ${encoding} encoding`);
  return encoding === 'base64' ? base64(value, path) : value;
}

function decodeHeaders(headers: unknown, binary: unknown, path: string): Record<string, string | Buffer> {
  if (headers === undefined || headers === null) {
    if (binary !== undefined && binary !== null && !(Array.isArray(binary) && binary.length === 0)) {
      throw new BatchEventError(`${path}.binaryHeaders`, 'names headers the record does not have');
    }
    return Object.freeze({});
  }
  const names = object(headers, `${path}.headers`);
  const binaryNames = new Set<string>();
  if (binary !== undefined && binary !== null) {
    if (!Array.isArray(binary)) throw new BatchEventError(`${path}.binaryHeaders`, 'must be an array of header names');
    for (const name of binary as unknown[]) {
      if (typeof name !== 'string' || !Object.hasOwn(names, name)) {
        throw new BatchEventError(`${path}.binaryHeaders`, `names ${JSON.stringify(name)}, which is not one of the record's headers`);
      }
      binaryNames.add(name);
    }
  }
  // Entries, not assignments, so a header named `__proto__` stays an ordinary key.
  const decoded: Record<string, string | Buffer> = Object.fromEntries(
    Object.entries(names).map(([name, value]): [string, string | Buffer] => {
      const headerPath = `${path}.headers[${JSON.stringify(name)}]`;
      if (typeof value !== 'string') throw new BatchEventError(headerPath, 'must be a string');
      return [name, binaryNames.has(name) ? base64(value, headerPath) : value];
    }),
  );
  return Object.freeze(decoded);
}

function checkOffsets(records: readonly BatchRecord<unknown>[], batch: { firstOffset: number; lastOffset: number }): void {
  let previous = -1;
  for (const [index, { offset }] of records.entries()) {
    if (offset < batch.firstOffset || offset > batch.lastOffset) {
      throw new BatchEventError(`records[${index}].offset`, `is ${offset}, outside the batch range ${batch.firstOffset}..${batch.lastOffset}`);
    }
    if (offset <= previous) {
      throw new BatchEventError(`records[${index}].offset`, `is ${offset}, not above the previous record's ${previous}`);
    }
    previous = offset;
  }
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BatchEventError(path, 'must be an object');
  }
  return value as Json;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw new BatchEventError(path, 'must be a non-empty string');
  return value;
}

function count(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new BatchEventError(path, `must be an integer of at least ${min}`);
  }
  return value;
}

function encoding(value: unknown): BatchEncoding {
  if (value === undefined) return 'base64';
  if (typeof value === 'string' && (BATCH_ENCODINGS as readonly string[]).includes(value)) return value as BatchEncoding;
  throw new BatchEventError('encoding', `must be one of ${BATCH_ENCODINGS.join(', ')}`);
}

// Canonical base64 with padding, as Buffer#toString('base64') writes it. Buffer.from
// alone skips bad characters silently and would hand the function wrong bytes; the
// round trip is native and fast even for megabytes, where a regex may not be.
function base64(value: string, path: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw new BatchEventError(path, 'is not valid base64');
  return bytes;
}
