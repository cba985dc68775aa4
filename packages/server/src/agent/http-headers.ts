import type { IncomingHttpHeaders } from 'node:http';

export type HeaderMap = Record<string, string | string[]>;

/** Hop-by-hop headers, never forwarded in either direction (CONTRACT §2.1). */
const HOP_BY_HOP = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

function isHopByHop(name: string, value: string | string[] | undefined): boolean {
  // Fn keeps `TE: trailers`, the one TE value that is end to end.
  if (name === 'te') return value !== 'trailers';
  return HOP_BY_HOP.has(name);
}

/** Copies headers without hop-by-hop ones and without any names in `drop` (lower-case). */
export function copyEndToEnd(headers: IncomingHttpHeaders | HeaderMap, drop: ReadonlySet<string>): HeaderMap {
  const out: HeaderMap = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || drop.has(name) || isHopByHop(name, value)) continue;
    out[name] = value;
  }
  return out;
}

/** Fn sends the deadline as RFC 3339; we keep milliseconds, which every RFC 3339 parser accepts. */
export function formatDeadline(deadline: Date): string {
  return deadline.toISOString();
}

// The body is re-framed (chunked) towards the function, and the Host is meaningless on a unix socket.
const DROP_TO_FUNCTION = new Set(['host', 'content-length', 'fn-call-id', 'fn-deadline']);

/** The client's headers as forwarded on an `/invoke` call; the agent adds Fn-Call-Id and Fn-Deadline (CONTRACT §2.1). */
export function invokeRequestHeaders(incoming: IncomingHttpHeaders): HeaderMap {
  return copyEndToEnd(incoming, DROP_TO_FUNCTION);
}

const DROP_FROM_FUNCTION = new Set(['content-length', 'fn-call-id', 'date']);

/** The function's response headers as sent back to an `/invoke` caller (CONTRACT §2.3). */
export function invokeResponseHeaders(fromFunction: HeaderMap, callId: string): HeaderMap {
  return { ...copyEndToEnd(fromFunction, DROP_FROM_FUNCTION), 'fn-call-id': callId };
}
