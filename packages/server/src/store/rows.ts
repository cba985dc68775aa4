import type { App, CallRecord, CallStatus, ClaimedCall, DetachedInput, Fn, Page, Trigger } from './models.js';

// Rows as both stores return them (JSON maps as text, absent values as NULL) and the models they make.

export interface AppRow {
  id: string; name: string; config: string; annotations: string;
  syslog_url: string | null; shape: string | null; created_at: string; updated_at: string;
}
export interface FnRow {
  id: string; app_id: string; name: string; image: string; memory: number; timeout: number;
  idle_timeout: number; config: string; annotations: string; shape: string | null; created_at: string; updated_at: string;
  max_containers: number | null; concurrency: number | null;
}
export interface TriggerRow {
  id: string; app_id: string; fn_id: string; name: string; type: string; source: string;
  annotations: string; options: string | null; created_at: string; updated_at: string;
}

export const appFromRow = (r: AppRow): App => ({
  id: r.id,
  name: r.name,
  config: JSON.parse(r.config) as App['config'],
  annotations: JSON.parse(r.annotations) as App['annotations'],
  ...(r.syslog_url !== null ? { syslog_url: r.syslog_url } : {}),
  ...(r.shape !== null ? { shape: r.shape } : {}),
  created_at: r.created_at,
  updated_at: r.updated_at,
});
export const fnFromRow = (r: FnRow): Fn => ({
  id: r.id,
  name: r.name,
  app_id: r.app_id,
  image: r.image,
  memory: r.memory,
  timeout: r.timeout,
  idle_timeout: r.idle_timeout,
  ...(r.max_containers !== null ? { max_containers: r.max_containers } : {}),
  ...(r.concurrency !== null ? { concurrency: r.concurrency } : {}),
  config: JSON.parse(r.config) as Fn['config'],
  annotations: JSON.parse(r.annotations) as Fn['annotations'],
  ...(r.shape !== null ? { shape: r.shape } : {}),
  created_at: r.created_at,
  updated_at: r.updated_at,
});
export const triggerFromRow = ({ options, ...r }: TriggerRow): Trigger => ({
  ...r,
  annotations: JSON.parse(r.annotations) as Trigger['annotations'],
  ...(options !== null ? { options: JSON.parse(options) as Record<string, unknown> } : {}),
});

/** A page of `limit` items has a cursor (the last item's position); a shorter one is the last page. */
export function page<Row, T>(rows: Row[], limit: number, map: (r: Row) => T, name: (t: T) => string): Page<T> {
  const items = rows.map(map);
  const last = items[items.length - 1];
  return items.length === limit && last !== undefined ? { items, nextCursor: name(last) } : { items };
}

/** Every column a record shows; the input columns are read only by a claim. */
export const RECORD_COLUMNS = `id, app_id, fn_id, type, status, created_at, started_at, completed_at, duration_ms, trigger_id,
  batch, error, error_code, attempts`;

export interface CallRow {
  id: string; app_id: string; fn_id: string; type: string; status: string; created_at: string;
  started_at: string | null; completed_at: string | null; duration_ms: number | null; trigger_id: string | null;
  batch: string | null; error: string | null; error_code: string | null; attempts: number;
}
export interface ClaimRow extends CallRow {
  headers: string | null;
  body: Buffer | null;
  owner: string;
  claim_epoch: number;
  previous_owner: string | null;
}

/** What a claim returns: the record, its stored input and the claim's fence. */
export function claimedFromRow(row: ClaimRow): ClaimedCall {
  return {
    ...recordFromRow(row),
    headers: row.headers === null ? {} : (JSON.parse(row.headers) as DetachedInput['headers']),
    body: row.body,
    owner: row.owner,
    epoch: row.claim_epoch,
    ...(row.previous_owner !== null ? { previous_owner: row.previous_owner } : {}),
  };
}

/** A stored call record as the API shows it: absent fields stay absent. */
export function recordFromRow(r: CallRow): CallRecord {
  const call: CallRecord = {
    id: r.id, app_id: r.app_id, fn_id: r.fn_id, type: r.type === 'detached' ? 'detached' : 'sync',
    status: r.status as CallStatus, created_at: r.created_at, attempts: r.attempts,
  };
  if (r.started_at !== null) call.started_at = r.started_at;
  if (r.completed_at !== null) call.completed_at = r.completed_at;
  if (r.duration_ms !== null) call.duration_ms = r.duration_ms;
  if (r.trigger_id !== null) call.trigger_id = r.trigger_id;
  if (r.batch !== null) call.batch = r.batch;
  if (r.error !== null) call.error = r.error;
  if (r.error_code !== null) call.error_code = r.error_code;
  return call;
}

