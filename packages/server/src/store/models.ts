import { FN_SETTING_LIMITS } from '@fnts/api/limits';
import type { Annotations, AppJson, ConfigMap, FnJson, TriggerJson } from '@fnts/api';

export type { Annotations, ConfigMap };

/**
 * Stored resources: the API's JSON (CONTRACT §4.2, @fnts/api) with what the store always holds made required.
 * The API leaves out empty config and annotations; the store keeps them as empty maps.
 */
export type App = AppJson & { config: ConfigMap; annotations: Annotations };

/** `max_containers` (server default when unset) and `concurrency` (1 when unset, as in Fn) are fnts extensions. */
export type Fn = FnJson & { memory: number; timeout: number; idle_timeout: number; annotations: Annotations };

/** `options`: a stream trigger's (fnts extension), validated by the stream engine. */
export type Trigger = TriggerJson & { annotations: Annotations };

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

export const FN_DEFAULTS = {
  memory: FN_SETTING_LIMITS.memory.default,
  timeout: FN_SETTING_LIMITS.timeout.default,
  idle_timeout: FN_SETTING_LIMITS.idle_timeout.default,
} as const;

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

/**
 * Which claim of a detached call this is: the server holding it and the claim's number (one more on every claim).
 * Ending or requeueing a call is fenced on both, so a server whose call was taken over cannot overwrite the result.
 */
export interface ClaimFence {
  id: string;
  owner: string;
  epoch: number;
}

/** A detached call claimed for running by one server. */
export interface ClaimedCall extends CallRecord, DetachedInput, ClaimFence {
  /** The server that held the call before, when this claim took it over from a server whose lease ran out. */
  previous_owner?: string;
}

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
