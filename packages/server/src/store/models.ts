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

export const FN_DEFAULTS = { memory: 128, timeout: 30, idle_timeout: 30 } as const;
