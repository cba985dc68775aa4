import { hash, randomBytes } from 'node:crypto';

/**
 * How API keys are written down, shared by the server (which checks them) and the CLI (`fnts keys create`, which
 * makes them): the scopes, the key's shape and the keys-file line. No dependencies beyond node:crypto, so the CLI
 * loads nothing else for it (`@fnts/api/api-keys`).
 */

/** `admin`: everything. `invoke`: `/invoke/...` and triggers that require a key. `metrics`: `/metrics` only. */
export type ApiKeyScope = 'admin' | 'invoke' | 'metrics';
export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['admin', 'invoke', 'metrics'];

/**
 * Keys a client sends are at least this long: anything shorter is guessable. Keys made by `fnts keys create`
 * are 256 random bits, which is also why one SHA-256 (not a slow password hash) is enough at rest.
 */
export const MIN_KEY_LENGTH = 16;

export function isApiKeyScope(s: string): s is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(s);
}

/** One-shot `crypto.hash` (about half the cost of createHash on this per-request path). */
export function hashKey(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

/** A line for the keys file: `sha256:<hex> <scope> [name]`. */
export function keyFileLine(key: string, scope: ApiKeyScope, name?: string): string {
  return `sha256:${hashKey(key).toString('hex')} ${scope}${name ? ` ${name}` : ''}`;
}

/** A new random key (`fnts_` + 43 base64url characters) and its line for the keys file. */
export function createApiKey(scope: ApiKeyScope = 'admin', name?: string): { key: string; line: string } {
  const key = `fnts_${randomBytes(32).toString('base64url')}`;
  return { key, line: keyFileLine(key, scope, name) };
}
