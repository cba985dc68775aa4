import type { SourceRecord } from './source.js';

/**
 * A stream trigger's record filter (STREAMS.md §13): every condition given must hold. Records that do not match are
 * committed and counted, never sent to the function.
 */
export interface RecordFilter {
  /** The key, as UTF-8 text, equals this. */
  key?: string;
  /** The key, as UTF-8 text, starts with this. */
  key_prefix?: string;
  /** Each header has exactly this value. */
  headers?: Record<string, string>;
  /** The value parses as JSON and each dotted path (`order.kind`) holds exactly this JSON value. */
  value?: Record<string, unknown>;
}

const FILTER_KEYS = ['key', 'key_prefix', 'headers', 'value'];

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The problems with a raw filter option, or none. */
export function filterProblems(raw: unknown): string[] {
  if (!isPlainObject(raw)) return ['options.filter must be an object with key, key_prefix, headers and/or value'];
  const problems: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (!FILTER_KEYS.includes(k)) problems.push(`options.filter.${k} is not a filter condition (${FILTER_KEYS.join(', ')})`);
    else if ((k === 'key' || k === 'key_prefix') && typeof v !== 'string') problems.push(`options.filter.${k} must be a string`);
    else if (k === 'headers' && (!isPlainObject(v) || Object.values(v).some((x) => typeof x !== 'string'))) {
      problems.push('options.filter.headers must map header names to string values');
    } else if (k === 'value' && !isPlainObject(v)) problems.push('options.filter.value must map dotted JSON paths to values');
  }
  if (problems.length === 0 && Object.keys(raw).length === 0) problems.push('options.filter needs at least one condition');
  return problems;
}

function pathValue(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Whether a record passes the filter. */
export function matchesFilter(r: SourceRecord, f: RecordFilter): boolean {
  const key = r.key?.toString('utf8');
  if (f.key !== undefined && key !== f.key) return false;
  if (f.key_prefix !== undefined && !(key ?? '').startsWith(f.key_prefix)) return false;
  for (const [name, want] of Object.entries(f.headers ?? {})) if (r.headers[name] !== want) return false;
  if (f.value) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.value.toString('utf8'));
    } catch {
      return false; // not JSON: no path can hold the value
    }
    for (const [path, want] of Object.entries(f.value)) {
      if (JSON.stringify(pathValue(parsed, path)) !== JSON.stringify(want)) return false;
    }
  }
  return true;
}
