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
