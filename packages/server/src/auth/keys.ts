import { timingSafeEqual } from 'node:crypto';
import {
  API_KEY_SCOPES, MIN_KEY_LENGTH, createApiKey, hashKey, isApiKeyScope as isScope, keyFileLine, type ApiKeyScope,
} from '@fnts/api/api-keys';

/**
 * API keys: what a key may do (its scope), how keys are written down (hashed in the keys file, plain in the
 * FNTS_API_KEYS env var) and how a presented key is checked. The key's format lives in @fnts/api/api-keys,
 * which the CLI's `fnts keys create` uses too.
 */

export { API_KEY_SCOPES, MIN_KEY_LENGTH, createApiKey, hashKey, keyFileLine, type ApiKeyScope };

/** One accepted key: the SHA-256 of the key, never the key itself. */
export interface ApiKeyEntry {
  readonly sha256: Buffer;
  readonly scope: ApiKeyScope;
  /** Where it came from (`keys file line 3`, `FNTS_API_KEYS entry 1`) or the name written on its line; for logs. */
  readonly label: string;
}

const KEY_CHARS = /^[!-~]+$/;

/**
 * Parses a keys file: one `sha256:<64 hex> [scope] [name]` per line (scope defaults to admin), `#` comments and
 * blank lines ignored. A plain key in the file is refused: the file is meant to be safe to read.
 */
export function parseKeysFile(text: string, problems: string[], source = 'keys file'): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const where = `${source} line ${i + 1}`;
    const [hash = '', scope = 'admin', name, ...rest] = line.split(/\s+/);
    const m = /^sha256:([0-9a-fA-F]{64})$/.exec(hash);
    if (!m?.[1]) {
      problems.push(`${where}: expected "sha256:<64 hex digits> [scope] [name]" (make one with \`fnts keys create\`), not a plain key`);
      return;
    }
    if (!isScope(scope)) {
      problems.push(`${where}: scope "${scope}" must be one of ${API_KEY_SCOPES.join(', ')}`);
      return;
    }
    if (rest.length > 0) {
      problems.push(`${where}: a name is one word; put remarks after #`);
      return;
    }
    entries.push({ sha256: Buffer.from(m[1], 'hex'), scope, label: name ?? where });
  });
  return entries;
}

/**
 * Parses FNTS_API_KEYS: comma- or newline-separated plain keys, each optionally followed by `:scope`
 * (`k1,k2:invoke`); the env var itself is the secret, so keys are hashed only in memory.
 */
export function parseKeysEnv(text: string, problems: string[]): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean).forEach((entry, i) => {
    const where = `FNTS_API_KEYS entry ${i + 1}`;
    const colon = entry.lastIndexOf(':');
    const suffix = colon > 0 ? entry.slice(colon + 1) : '';
    const [key, scope] = isScope(suffix) ? [entry.slice(0, colon), suffix] : [entry, 'admin' as const];
    if (key.length < MIN_KEY_LENGTH || !KEY_CHARS.test(key)) {
      problems.push(`${where}: a key must be at least ${MIN_KEY_LENGTH} printable characters without spaces (make one with \`fnts keys create\`)`);
      return;
    }
    entries.push({ sha256: hashKey(key), scope, label: where });
  });
  return entries;
}

/**
 * Finds the entry a presented key matches: one hash, then a constant-time compare against every entry (no early
 * exit, so the time taken says nothing about which entry, if any, matched).
 */
export function matchKey(entries: readonly ApiKeyEntry[], key: string): ApiKeyEntry | undefined {
  const presented = hashKey(key);
  let found: ApiKeyEntry | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(entry.sha256, presented) && found === undefined) found = entry;
  }
  return found;
}
