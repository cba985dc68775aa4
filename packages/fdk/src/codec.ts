// Pure encoding rules of a call: request body → function input, function result →
// response body, and the `Fn-Deadline` timestamp.
import { PassThrough } from 'node:stream';
import { isRawResult } from './result.js';

export type InputMode = 'json' | 'string' | 'buffer' | 'stream';
export const INPUT_MODES: readonly InputMode[] = ['json', 'string', 'buffer', 'stream'];

/**
 * The function's input, decoded once from the whole body so a multi-byte UTF-8
 * character split across chunks survives. In json mode an empty body gives `''`
 * and invalid JSON gives the raw string, as in fdk-node. Stream mode normally gets
 * the live request stream from the listener; a whole body is replayed as a stream.
 */
export function decodeInput(body: Buffer, mode: InputMode): unknown {
  switch (mode) {
    case 'stream':
      return new PassThrough().end(body);
    case 'buffer':
      return body;
    case 'string':
      return body.toString('utf8');
    case 'json': {
      const text = body.toString('utf8');
      if (text === '') return '';
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }
  }
}

/** True for `application/json` (with parameters) and any `+json` type. */
export function isJsonContentType(contentType: string): boolean {
  const type = contentType.trim().toLowerCase();
  return type.startsWith('application/json') || type.includes('+json');
}

export type EncodedOutput =
  | { ok: true; body: Buffer; /** Set when the FDK chose JSON because no content type was set. */ contentType?: string }
  | { ok: false; error: Error };

const EMPTY = Buffer.alloc(0);

/**
 * The response body for a function result. Never throws: a value that cannot be
 * written (BigInt or a cycle under JSON, a function, a symbol) is an error result.
 */
export function encodeOutput(value: unknown, contentType: string | null): EncodedOutput {
  if (value === undefined || value === null) return { ok: true, body: EMPTY };
  if (isRawResult(value)) return { ok: true, body: toBuffer(value.value) };
  if (typeof value === 'string' && contentType !== null && !isJsonContentType(contentType)) {
    return { ok: true, body: Buffer.from(value, 'utf8') };
  }
  if (value instanceof ArrayBuffer) return { ok: true, body: Buffer.from(value) };
  if (ArrayBuffer.isView(value)) {
    return { ok: true, body: Buffer.from(value.buffer, value.byteOffset, value.byteLength) };
  }
  if (typeof value === 'function' || typeof value === 'symbol') {
    return { ok: false, error: new TypeError(`a function must not return a ${typeof value}`) };
  }
  const asJson = contentType === null || isJsonContentType(contentType);
  if (!asJson && (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')) {
    return { ok: true, body: Buffer.from(String(value), 'utf8') };
  }
  try {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) {
      return { ok: false, error: new TypeError('the result has no JSON representation') };
    }
    const body = Buffer.from(text, 'utf8');
    return contentType === null ? { ok: true, body, contentType: 'application/json' } : { ok: true, body };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error : new Error(describeError(error)) };
  }
}

function toBuffer(value: string | Uint8Array): Buffer {
  return typeof value === 'string'
    ? Buffer.from(value, 'utf8')
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** `error.toString()` as fdk-node reports it, but safe for thrown non-errors and hostile objects. */
export function describeError(error: unknown): string {
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

// RFC 3339 date-time; `t`, `z` and a space separator are allowed by the RFC too.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an `Fn-Deadline` value (RFC 3339 with `Z` or an offset); null if it is not one. */
export function parseDeadline(value: string | null | undefined): Date | null {
  const match = value ? RFC3339.exec(value.trim()) : null;
  if (!match) return null;
  const [, y, mo, d, h, mi, s, frac, zulu, sign, oh, om] = match;
  const n = (part: string | undefined): number => Number(part ?? '0');
  const [year, month, day, hour, minute, second] = [n(y), n(mo), n(d), n(h), n(mi), n(s)];
  const [offsetHours, offsetMinutes] = [n(oh), n(om)];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60 || offsetHours > 23 || offsetMinutes > 59) return null;
  const millis = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const offset = zulu ? 0 : (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  // setUTCFullYear, unlike Date.UTC, does not map years below 100 to 19xx.
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, millis);
  const time = local.getTime() - offset * 60_000;
  return Number.isNaN(time) ? null : new Date(time);
}

function daysInMonth(year: number, month: number): number {
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0);
  return lastDay.getUTCDate();
}
