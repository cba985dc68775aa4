// The console's only way to the server: same-origin requests to the fnts API, with the API key when one is set.

const KEY_ITEM = 'fnts.apiKey';

/** An answer that was not 2xx, with the API's stable error code when it sent one. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly code?: string) {
    super(message);
  }
}

/**
 * The key lives in sessionStorage: it is gone when the tab closes and is never sent anywhere but this server,
 * as an Authorization header (cookies would ride along on requests other sites make the browser send).
 */
export function apiKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
  for (const l of authListeners) l(false);
}

const authListeners = new Set<(needed: boolean) => void>();
/** Tells `listener` when the server asks for a key (true) and when one was given (false). */
export function onAuthNeeded(listener: (needed: boolean) => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

/** Fetches an API path; a 401 or 403 asks the page for a key, any other failure throws ApiError. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = apiKey();
  if (key) headers.set('authorization', `Bearer ${key}`);
  const res = await fetch(path, { ...init, headers });
  if (res.ok) return res;
  const body = await res.json().catch(() => null) as { message?: string; code?: string } | null;
  if (res.status === 401 || res.status === 403) for (const l of authListeners) l(true);
  throw new ApiError(res.status, body?.message ?? res.statusText, body?.code);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await request(path)).json() as Promise<T>;
}

export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const res = await request(path, {
    method: 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return res.json() as Promise<T>;
}

/** Every item of a paged list (Fn's cursor paging), bounded so a huge list cannot stall the page. */
export async function listAll<T>(path: string, maxPages = 10): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  const sep = path.includes('?') ? '&' : '?';
  for (let i = 0; i < maxPages; i++) {
    const page = await getJson<{ items: T[]; next_cursor?: string }>(
      `${path}${sep}per_page=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}

/**
 * Reads an NDJSON answer as it arrives (a followed log). fetch, not EventSource: EventSource cannot send the
 * Authorization header. Ends when `signal` aborts.
 */
export async function followNdjson<T>(path: string, onItem: (item: T) => void, signal: AbortSignal): Promise<void> {
  const res = await request(path, { signal });
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      rest += value;
      let nl: number;
      while ((nl = rest.indexOf('\n')) !== -1) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        // Empty lines keep the connection alive.
        if (line) onItem(JSON.parse(line) as T);
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
