/** Stored resources, in the JSON shape of Fn API v2 (CONTRACT §4.2). */
export type Annotations = Record<string, unknown>;
export type ConfigMap = Record<string, string>;

export interface App {
  id: string;
  name: string;
  config: ConfigMap;
  annotations: Annotations;
  syslog_url?: string;
  shape?: string;
  created_at: string;
  updated_at: string;
}

export interface Fn {
  id: string;
  name: string;
  app_id: string;
  image: string;
  memory: number;
  timeout: number;
  idle_timeout: number;
  /** fnts extension: the most containers this function may run at once (server default when unset). */
  max_containers?: number;
  /** fnts extension: calls in flight per container (1 when unset, as in Fn). */
  concurrency?: number;
  config: ConfigMap;
  annotations: Annotations;
  shape?: string;
  created_at: string;
  updated_at: string;
}

export interface Trigger {
  id: string;
  name: string;
  app_id: string;
  fn_id: string;
  type: string;
  source: string;
  annotations: Annotations;
  /** Options of a stream trigger (fnts extension), validated by the stream engine. */
  options?: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface ListOptions {
  /** Return names strictly greater than this one. */
  after?: string;
  limit: number;
  name?: string;
}

export const FN_DEFAULTS = { memory: 128, timeout: 30, idle_timeout: 30 } as const;

/** Fn's call states; `queued` and `running` are only ever seen on detached calls (sync calls are recorded once done). */
export type CallStatus = 'queued' | 'running' | 'success' | 'error' | 'timeout' | 'cancelled';

/** One call of a function, sync or detached: Fn's call model plus what issue 13's call history shows. */
export interface CallRecord {
  id: string;
  app_id: string;
  fn_id: string;
  /** `detached` calls are stored before their 202 and run by the detached queue; `sync` ones are recorded afterwards. */
  type: 'sync' | 'detached';
  status: CallStatus;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  /** From created_at to completed_at, in milliseconds. */
  duration_ms?: number;
  /** The trigger that made the call (an HTTP or stream trigger); absent for `/invoke`. */
  trigger_id?: string;
  /** The stream batch a stream trigger's call carried, e.g. `orders/3@120-129`. */
  batch?: string;
  error?: string;
  error_code?: string;
  /** Runs started (a detached call retried after platform throttling counts each one). */
  attempts: number;
}

/** What a detached call needs to run after a restart: the function's request headers and body. */
export interface DetachedInput {
  headers: Record<string, string | string[]>;
  body: Buffer | null;
}

/** A detached call claimed for running by one server. */
export interface ClaimedCall extends CallRecord, DetachedInput {}

/** How a finished call ended, as written to its record. */
export interface CallResult {
  status: Exclude<CallStatus, 'queued' | 'running'>;
  completed_at: string;
  duration_ms: number;
  error?: string;
  error_code?: string;
}

/** Retention of finished call records: at most `perFn` per function and none older than `maxAgeMs`. */
export interface CallRetention {
  perFn: number;
  maxAgeMs: number;
}
