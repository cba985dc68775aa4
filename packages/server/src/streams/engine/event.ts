import { hash } from 'node:crypto';
import type { ValueEncoding } from './options.js';
import type { SourceRecord } from './source.js';

/** The coordinates of one batch: a contiguous offset range of one partition (STREAMS.md §1). */
export interface BatchRange {
  partition: number;
  first: number;
  last: number;
}

/** Stable across retries of the same range, so functions can deduplicate (STREAMS.md §4). */
export function batchId(triggerId: string, r: BatchRange): string {
  return hash('sha256', `${triggerId}/${r.partition}/${r.first}/${r.last}`, 'hex').slice(0, 32);
}

function encode(b: Buffer, encoding: ValueEncoding): unknown {
  if (encoding === 'base64') return b.toString('base64');
  const text = b.toString('utf8');
  if (encoding === 'utf8') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // not JSON: the function gets the text
  }
}

export interface BatchEventInput {
  sourceType: 'embedded' | 'kafka';
  stream: string;
  range: BatchRange;
  id: string;
  attempt: number;
  trigger: { id: string; name: string };
  encoding: ValueEncoding;
  records: SourceRecord[];
}

/** The JSON body of one batch call (STREAMS.md "Event shape"). */
export function batchEvent(e: BatchEventInput): string {
  return JSON.stringify({
    source: { type: e.sourceType, stream: e.stream, partition: e.range.partition },
    batch: { id: e.id, attempt: e.attempt, firstOffset: e.range.first, lastOffset: e.range.last },
    trigger: e.trigger,
    encoding: e.encoding,
    records: e.records.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key === null ? null : e.encoding === 'base64' ? r.key.toString('base64') : r.key.toString('utf8'),
      value: encode(r.value, e.encoding),
      headers: r.headers,
      binaryHeaders: [],
    })),
  });
}

/** The headers mirroring the batch coordinates next to the Fn call id. */
export function batchHeaders(e: BatchEventInput): Record<string, string> {
  return {
    'content-type': 'application/json',
    'fnts-stream': e.stream,
    'fnts-partition': String(e.range.partition),
    'fnts-first-offset': String(e.range.first),
    'fnts-last-offset': String(e.range.last),
    'fnts-batch-id': e.id,
    'fnts-attempt': String(e.attempt),
  };
}

export type BatchResponse =
  | { kind: 'success' }
  | { kind: 'partial'; lowest: number; error: string }
  | { kind: 'malformed'; reason: string };

/**
 * Reads a 200 answer: no `failures` key (or an empty list) is success; a list of failures names the lowest
 * failed offset; a bad shape or an offset outside the batch fails the whole batch (STREAMS.md §7).
 */
export function parseBatchResponse(body: string, range: BatchRange): BatchResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'success' };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !('failures' in parsed)) return { kind: 'success' };
  const failures = (parsed as { failures: unknown }).failures;
  if (!Array.isArray(failures)) return { kind: 'malformed', reason: '"failures" must be a list' };
  if (failures.length === 0) return { kind: 'success' };
  let lowest: { offset: number; error: string } | undefined;
  for (const f of failures) {
    const offset = (f as { offset?: unknown } | null)?.offset;
    if (!Number.isInteger(offset)) return { kind: 'malformed', reason: 'every failure needs an integer "offset"' };
    if ((offset as number) < range.first || (offset as number) > range.last) {
      return { kind: 'malformed', reason: `failure offset ${String(offset)} is outside the batch ${range.first}..${range.last}` };
    }
    const error = (f as { error?: unknown }).error;
    if (!lowest || (offset as number) < lowest.offset) {
      lowest = { offset: offset as number, error: typeof error === 'string' ? error : 'record failed' };
    }
  }
  return lowest ? { kind: 'partial', lowest: lowest.offset, error: lowest.error } : { kind: 'success' };
}
