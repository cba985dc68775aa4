// Header names and maps: canonical names as Go and fdk-node spell them, the
// request header map, and the mapping of response headers onto the wire.
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { HEADER, HOP_BY_HOP_HEADERS, HTTP_HEADER_PREFIX } from '@fnts/api/contract';

/** Header name → values, keyed by canonical name. A Map so no name can collide with Object.prototype. */
export type HeaderMap = Map<string, string[]>;
/** The plain-object copy handed to users. */
export type HeaderRecord = Record<string, string[]>;

/**
 * Canonical header name like fdk-node: `_` becomes `-`, each dash-separated part
 * is title-cased (`x-b3-traceid` → `X-B3-Traceid`).
 */
export function canonicalHeaderName(name: string): string {
  return name
    .replace(/_/g, '-')
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join('-');
}

/** Builds the request header map from Node's flat `rawHeaders`, keeping multiplicity and skipping hop-by-hop names. */
export function collectRequestHeaders(rawHeaders: readonly string[]): HeaderMap {
  const headers: HeaderMap = new Map();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(rawHeaders[i] ?? '');
    if (name === '' || HOP_BY_HOP_HEADERS.has(name)) continue;
    const values = headers.get(name);
    const value = rawHeaders[i + 1] ?? '';
    if (values) values.push(value);
    else headers.set(name, [value]);
  }
  return headers;
}

/** A deep copy as a plain object, so callers cannot mutate the FDK's state. */
export function headerRecord(headers: HeaderMap): HeaderRecord {
  const record: HeaderRecord = {};
  for (const [name, values] of headers) record[name] = values.slice();
  return record;
}

/** The end user's headers of a trigger call: `Fn-Http-H-*` with the prefix removed. */
export function httpGatewayHeaders(headers: HeaderMap): HeaderMap {
  const gateway: HeaderMap = new Map();
  for (const [name, values] of headers) {
    if (name.startsWith(HTTP_HEADER_PREFIX) && name.length > HTTP_HEADER_PREFIX.length) {
      gateway.set(name.slice(HTTP_HEADER_PREFIX.length), values.slice());
    }
  }
  return gateway;
}

/**
 * Checks a response header the function sets and returns its canonical name and
 * string values. Throwing here, inside the function, gives the user a clear error
 * instead of a broken response later.
 */
export function checkedResponseHeader(name: string, values: readonly unknown[]): [string, string[]] {
  const canonical = canonicalHeaderName(String(name));
  validateHeaderName(canonical);
  const strings = values.map((value) => String(value));
  for (const value of strings) validateHeaderValue(canonical, value);
  return [canonical, strings];
}

// Headers the FDK owns: framing is the FDK's job, so a user value would corrupt the response.
const FDK_OWNED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  HEADER.contentLength,
  HEADER.fdkVersion,
  HEADER.fdkRuntime,
]);

/**
 * The function's response headers as they go on the wire. On an HTTP trigger call
 * every header is sent as `Fn-Http-H-<Name>` (so the Fn server forwards it to the
 * end user) except `Content-Type`, `Fn-Http-Status` and names already prefixed.
 */
export function wireResponseHeaders(headers: HeaderMap, httpTrigger: boolean): HeaderMap {
  const wire: HeaderMap = new Map();
  for (const [name, values] of headers) {
    if (HOP_BY_HOP_HEADERS.has(name) || FDK_OWNED_RESPONSE_HEADERS.has(name)) continue;
    const keepName =
      !httpTrigger ||
      name === HEADER.contentType ||
      name === HEADER.httpStatus ||
      name.startsWith(HTTP_HEADER_PREFIX);
    const wireName = keepName ? name : HTTP_HEADER_PREFIX + name;
    const existing = wire.get(wireName);
    if (existing) existing.push(...values);
    else wire.set(wireName, values.slice());
  }
  return wire;
}
