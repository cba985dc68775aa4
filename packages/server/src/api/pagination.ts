import { errors } from '../errors.js';
import type { ListOptions, Page } from '../store/models.js';

/** Fn's paging rules (CONTRACT §4.6): per_page defaults to 30, is clamped to 100; the cursor is the last name, base64url. */
export function listOptions(query: { cursor?: string; per_page?: string; name?: string }): ListOptions {
  const n = Number(query.per_page);
  const limit = Number.isInteger(n) && n > 0 ? Math.min(n, 100) : 30;
  const opts: ListOptions = { limit };
  if (query.name) opts.name = query.name;
  if (query.cursor) {
    const decoded = Buffer.from(query.cursor, 'base64url').toString('utf8');
    if (!decoded || Buffer.from(decoded, 'utf8').toString('base64url') !== query.cursor.replace(/=+$/, '')) {
      throw errors.validation('invalid cursor: pass the next_cursor value of a previous page unchanged');
    }
    opts.after = decoded;
  }
  return opts;
}

/** The list body: items always present, next_cursor only when there may be more. */
export function listBody<T, U>(page: Page<T>, render: (item: T) => U): { items: U[]; next_cursor?: string } {
  const body: { items: U[]; next_cursor?: string } = { items: page.items.map(render) };
  if (page.nextCursor !== undefined) body.next_cursor = Buffer.from(page.nextCursor, 'utf8').toString('base64url');
  return body;
}
