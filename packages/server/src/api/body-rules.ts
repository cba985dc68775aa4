import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';

/**
 * The request-shape rules every Fn client relies on, applied once to every resource body before validation
 * (CONTRACT §4.2 "What real clients send"):
 *
 * - `null` for an optional field is the field left out: Go clients marshal unset maps as `null`, and Go's
 *   decoder in Fn leaves the field at its zero value. Fields whose `null` means "back to the default" on
 *   update (fnts extensions, listed per route) keep it.
 * - Go's zero time `0001-01-01T00:00:00Z` (in any precision) in `created_at`/`updated_at` is the field left
 *   out: the official CLI sends it on every create and update. Any other time keeps the route's own rule.
 *
 * An empty body under any content type is no body: see `jsonOrNothing`.
 */
export function normalizeResourceBody(body: unknown, nullMeansClear: ReadonlySet<string> = NO_FIELDS): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === null && !nullMeansClear.has(key)) delete fields[key];
    else if ((key === 'created_at' || key === 'updated_at') && isGoZeroTime(value)) delete fields[key];
  }
}

const NO_FIELDS: ReadonlySet<string> = new Set();

/** Go's `time.Time{}` as Fn's DateTime (and RFC 3339 in general) writes it: year 1, January 1st, midnight UTC. */
export function isGoZeroTime(value: unknown): boolean {
  return typeof value === 'string' && /^0001-01-01T00:00:00(\.0+)?(Z|[+-]00:00)$/.test(value);
}

/** Registers the rules on every route of one resource plugin (encapsulated: the invoke path never pays for them). */
export function useResourceBodyRules(api: FastifyInstance, nullMeansClear?: ReadonlySet<string>): void {
  api.addHook('preValidation', async (req) => {
    normalizeResourceBody(req.body, nullMeansClear);
  });
}

type BodyParser = (req: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) => void;

/**
 * The API's body parser for every content type: JSON whatever the declared type (Fn reads `curl -d` form
 * bodies as JSON), and an empty body is no body (the Fn CLI sends `Content-Type: application/json` with nothing
 * on DELETE and GET). Non-empty bodies go to fastify's own JSON parser (prototype-poisoning checks included).
 */
export function jsonOrNothing(parseJson: BodyParser): BodyParser {
  return (req, body, done) => {
    if (body.trim() === '') done(null, undefined);
    else if (nestingDepth(body) > MAX_JSON_DEPTH) {
      done(errors.invalidJson(`Invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels`));
    } else parseJson(req, body, done);
  };
}

/** Deeper bodies are refused before parsing: every consumer of a parsed body (merges, JSON.stringify) recurses. */
export const MAX_JSON_DEPTH = 64;

/** The deepest array/object nesting in a JSON text, found in one pass without recursion (strings skipped). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
