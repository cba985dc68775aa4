import type { FastifyInstance } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { matchKey, type ApiKeyEntry, type ApiKeyScope } from '../auth/keys.js';
import { errors } from '../errors.js';

/**
 * API keys on requests. With keys configured, every request needs one except `/`, `/version`, the console's files
 * (`/ui`) and HTTP triggers (which decide for themselves, see checkTriggerAuth). Paths are classified before routing and anything not
 * known to be public or invoke-only needs an admin key, so an odd spelling of a path can only need more, never less.
 */

/**
 * A trigger with this annotation set to "required" needs a key with scope invoke (or admin); "public" or absent: none.
 * Any other value counts as "required", so a typo fails closed (call-targets.ts); a server without keys checks nothing.
 */
export const TRIGGER_AUTH_ANNOTATION = 'fnts.io/auth';

type Need = ApiKeyScope | 'public';

/** What a request path needs, from its raw URL. */
export function requiredScope(url: string): Need {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === '/' || path === '/version' || path.startsWith('/t/')) return 'public';
  // The web console's files: code without data. The page sends the key it asks for on every API request.
  if (path === '/ui' || path.startsWith('/ui/')) return 'public';
  if (path.startsWith('/invoke/')) return 'invoke';
  if (path === '/metrics') return 'metrics';
  return 'admin';
}

/**
 * The key in an Authorization header: `Bearer <key>` (what Fn's CLI sends with FN_TOKEN), or HTTP Basic with the
 * key as the password (or as the user name when the password is empty), for clients that only take a URL.
 * Undefined when there is no header; '' when it is malformed, which matches no key.
 */
export function presentedKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const value = space === -1 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') return value;
  if (scheme !== 'basic') return '';
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return '';
  return decoded.slice(colon + 1) || decoded.slice(0, colon);
}

/**
 * Checks the request's key for `need` and removes the Authorization header once used, so the key is never
 * forwarded to a function (functions are not trusted with it).
 */
export function authorize(keys: readonly ApiKeyEntry[], headers: IncomingHttpHeaders, need: ApiKeyScope): ApiKeyEntry {
  const key = presentedKey(headers.authorization);
  if (key === undefined) throw errors.authMissing();
  const entry = key === '' ? undefined : matchKey(keys, key);
  if (!entry) throw errors.authInvalid();
  if (entry.scope !== 'admin' && entry.scope !== need) throw errors.authScope(entry.scope, need);
  delete headers.authorization;
  return entry;
}

/** The onRequest hook; nothing is registered without keys, so a keyless server pays nothing. */
export function registerApiKeyAuth(app: FastifyInstance, keys: readonly ApiKeyEntry[]): void {
  if (keys.length === 0) return;
  app.addHook('onRequest', (req, _reply, done) => {
    const need = requiredScope(req.url);
    if (need === 'public') return done();
    try {
      authorize(keys, req.headers, need);
      done();
    } catch (err) {
      done(err as Error);
    }
  });
}
