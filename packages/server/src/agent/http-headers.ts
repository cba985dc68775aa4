import { HEADER, HOP_BY_HOP_HEADERS, HTTP_HEADER_PREFIX, HTTP_REQUEST_INTENT } from '@fnts/api/contract';
import type { IncomingHttpHeaders } from 'node:http';
import { isoFormatter } from '../iso-time.js';

export type HeaderMap = Record<string, string | string[]>;

/**
 * Hop-by-hop and expectation headers, never forwarded in either direction (CONTRACT §2.1): they describe one
 * connection, and undici refuses several of them outright (a forwarded `Expect` used to fail the call). `Expect`
 * is answered by the server itself (100 Continue, or 413 at once). Any `Proxy-*` header is one too.
 */
const HOP_BY_HOP = new Set([...HOP_BY_HOP_HEADERS].map((h) => h.toLowerCase()));
/** The contract's header names as node spells incoming ones. */
const CALL_ID = HEADER.callId.toLowerCase();
const DEADLINE = HEADER.deadline.toLowerCase();
const CONTENT_TYPE = HEADER.contentType.toLowerCase();
const CONTENT_LENGTH = HEADER.contentLength.toLowerCase();
const HTTP_STATUS = HEADER.httpStatus.toLowerCase();
const NONE: ReadonlySet<string> = new Set();

function isHopByHop(name: string, listedInConnection: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || listedInConnection.has(name);
}

/** The header names a `Connection` header lists, which are hop-by-hop too (RFC 9110 §7.6.1); none for the usual `keep-alive`. */
function connectionOptions(headers: IncomingHttpHeaders | HeaderMap): ReadonlySet<string> {
  let names: Set<string> | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (name.length !== 10 || value === undefined || name.toLowerCase() !== 'connection') continue;
    if (value === 'keep-alive' || value === 'close') continue; // nearly every request: nothing to split
    for (const v of Array.isArray(value) ? value : [value]) {
      for (const token of v.split(',')) {
        const listed = token.trim().toLowerCase();
        // Names that are hop-by-hop anyway need no set: a plain keep-alive connection makes none.
        if (listed && !HOP_BY_HOP.has(listed)) (names ??= new Set()).add(listed);
      }
    }
  }
  return names ?? NONE;
}

/** Copies headers without hop-by-hop ones and without any names in `drop` (lower-case). */
export function copyEndToEnd(headers: IncomingHttpHeaders | HeaderMap, drop: ReadonlySet<string>): HeaderMap {
  const out: HeaderMap = {};
  const listed = connectionOptions(headers);
  // for-in, not Object.entries: no array per header on the call path.
  for (const rawName in headers) {
    const value = headers[rawName];
    const name = rawName.toLowerCase();
    if (value === undefined || drop.has(name) || isHopByHop(name, listed)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Fn sends the deadline as RFC 3339; we keep milliseconds, which every RFC 3339 parser accepts. Calls that start in
 * the same millisecond share one string.
 */
export const formatDeadline = isoFormatter();

/**
 * The headers of one `POST /call`, as the flat name/value list undici takes: the call's own headers, then its
 * Fn-Call-Id and Fn-Deadline, which replace any the call carried (no object is built per call).
 */
export function callHeaders(headers: HeaderMap, callId: string, deadlineMs: number): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name] as string | string[];
    if ((name.length === CALL_ID.length || name.length === DEADLINE.length) && isCallIdOrDeadline(name)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  out.push(CALL_ID, callId, DEADLINE, formatDeadline(deadlineMs));
  return out;
}

function isCallIdOrDeadline(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === CALL_ID || lower === DEADLINE;
}

// The body is re-framed (chunked) towards the function, and the Host is meaningless on a unix socket.
const DROP_TO_FUNCTION = new Set(['host', CONTENT_LENGTH, CALL_ID, DEADLINE]);

/** The client's headers as forwarded on an `/invoke` call; the agent adds Fn-Call-Id and Fn-Deadline (CONTRACT §2.1). */
export function invokeRequestHeaders(incoming: IncomingHttpHeaders): HeaderMap {
  return copyEndToEnd(incoming, DROP_TO_FUNCTION);
}

// The function's Content-Length is kept: the body is passed through unchanged, and a known length spares chunking.
const DROP_FROM_FUNCTION = new Set([CALL_ID, 'date']);

/** The function's response headers as sent back to an `/invoke` caller (CONTRACT §2.3). */
export function invokeResponseHeaders(fromFunction: HeaderMap, callId: string): HeaderMap {
  const headers = copyEndToEnd(fromFunction, DROP_FROM_FUNCTION);
  headers[CALL_ID] = callId;
  return headers;
}

/** Go's canonical header form, which Fn uses for the names it writes: `x-b3-traceid` → `X-B3-Traceid`. */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

const HTTP_PREFIX = HTTP_HEADER_PREFIX.toLowerCase();

/** The headers of the `POST /call` request for an HTTP-trigger call (CONTRACT §2.1): every client header but Content-Type is prefixed. */
export function triggerRequestHeaders(incoming: IncomingHttpHeaders, method: string, requestUrl: string): HeaderMap {
  const out: HeaderMap = {};
  const forwarded = copyEndToEnd(incoming, DROP_TRIGGER);
  for (const name in forwarded) {
    const value = forwarded[name] as string | string[];
    if (name === CONTENT_TYPE) out[HEADER.contentType] = value;
    else out[`${HTTP_HEADER_PREFIX}${canonicalHeaderName(name)}`] = value;
  }
  out[HEADER.intent] = HTTP_REQUEST_INTENT;
  out[HEADER.httpMethod] = method;
  out[HEADER.httpRequestUrl] = requestUrl;
  return out;
}
// The Host lives on only inside Fn-Http-Request-Url; the client's own call id and deadline are not trusted.
const DROP_TRIGGER = new Set(['host', CALL_ID, DEADLINE]);

/**
 * The response an HTTP-trigger client gets (CONTRACT §2.3): `Fn-Http-H-X` becomes `X`, Content-Type passes,
 * `Fn-Http-Status` sets the status, and every other function header is dropped.
 */
export function triggerResponse(fromFunction: HeaderMap, callId: string): { status: number; headers: HeaderMap } {
  const headers: HeaderMap = {};
  let status = 200;
  for (const rawName in fromFunction) {
    const value = fromFunction[rawName] as string | string[];
    const name = rawName.toLowerCase();
    if (name.startsWith(HTTP_PREFIX) && name.length > HTTP_PREFIX.length) {
      const target = name.slice(HTTP_PREFIX.length);
      if (!isHopByHop(target, NONE) && target !== CONTENT_LENGTH) headers[canonicalHeaderName(target)] = value;
    } else if (name === CONTENT_TYPE) {
      headers[HEADER.contentType] = value;
    } else if (name === CONTENT_LENGTH) {
      headers[HEADER.contentLength] = value;
    } else if (name === HTTP_STATUS) {
      const n = Number(Array.isArray(value) ? value[0] : value);
      if (Number.isInteger(n) && n >= 100 && n <= 599) status = n;
    }
  }
  headers[HEADER.callId] = callId;
  return { status, headers };
}
