import Type from 'typebox';
import { AnnotationMap, DateTime, ListOf, NullableStringMap, StringMap, type ConfigMap } from './common.js';

/*
 * Apps, functions and triggers (Fn API v2, CONTRACT §4.2). Request fields are optional at the schema level on
 * purpose: a missing field gets Fn's own message from the resource validators, while a wrongly-typed one fails
 * here as `Invalid JSON` (CONTRACT §4.3).
 */

export const AppIdParams = Type.Object({ app_id: Type.String() });
export const FnIdParams = Type.Object({ fn_id: Type.String() });
export const TriggerIdParams = Type.Object({ trigger_id: Type.String() });

export const AppBody = Type.Object({
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  config: Type.Optional(NullableStringMap),
  annotations: Type.Optional(AnnotationMap),
  syslog_url: Type.Optional(Type.String()),
  shape: Type.Optional(Type.String()),
  created_at: Type.Optional(Type.String()),
  updated_at: Type.Optional(Type.String()),
});
export type AppBody = Type.Static<typeof AppBody>;

export const FnBody = Type.Object({
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  app_id: Type.Optional(Type.String()),
  image: Type.Optional(Type.String()),
  memory: Type.Optional(Type.Integer()),
  timeout: Type.Optional(Type.Integer()),
  idle_timeout: Type.Optional(Type.Integer()),
  /** fnts extensions; `null` on PUT goes back to the server default. */
  max_containers: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  concurrency: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  config: Type.Optional(NullableStringMap),
  annotations: Type.Optional(AnnotationMap),
  shape: Type.Optional(Type.String()),
  created_at: Type.Optional(Type.String()),
  updated_at: Type.Optional(Type.String()),
});
export type FnBody = Type.Static<typeof FnBody>;

export const TriggerBody = Type.Object({
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  app_id: Type.Optional(Type.String()),
  fn_id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  annotations: Type.Optional(AnnotationMap),
  /** Stream trigger options (fnts extension): batching, start position, retries, dead letters. */
  options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  created_at: Type.Optional(Type.String()),
  updated_at: Type.Optional(Type.String()),
});
export type TriggerBody = Type.Static<typeof TriggerBody>;

export const AppResponse = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    config: Type.Optional(StringMap),
    annotations: Type.Optional(AnnotationMap),
    syslog_url: Type.Optional(Type.String()),
    shape: Type.Optional(Type.String()),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { title: 'App' },
);

export const FnResponse = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    app_id: Type.String(),
    image: Type.String(),
    memory: Type.Optional(Type.Integer({ description: 'MiB' })),
    timeout: Type.Optional(Type.Integer({ description: 'seconds' })),
    idle_timeout: Type.Optional(Type.Integer({ description: 'seconds' })),
    max_containers: Type.Optional(Type.Integer({ description: 'fnts extension: most containers at once' })),
    concurrency: Type.Optional(Type.Integer({ description: 'fnts extension: calls in flight per container' })),
    config: StringMap,
    annotations: Type.Optional(AnnotationMap),
    shape: Type.Optional(Type.String()),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { title: 'Fn' },
);

export const TriggerResponse = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    app_id: Type.String(),
    fn_id: Type.String(),
    type: Type.String({ description: '`http` or `stream`' }),
    source: Type.String(),
    annotations: Type.Optional(AnnotationMap),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'stream triggers: the resolved options' })),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { title: 'Trigger' },
);

export const AppList = ListOf(AppResponse, 'AppList');
export const FnList = ListOf(FnResponse, 'FnList');
export const TriggerList = ListOf(TriggerResponse, 'TriggerList');

/** The JSON of each resource as the API answers it. */
export type AppJson = Type.Static<typeof AppResponse>;
export type FnJson = Type.Static<typeof FnResponse>;
export type TriggerJson = Type.Static<typeof TriggerResponse>;

/** What a create sends: everything but the server-assigned fields. */
export type NewApp = Pick<AppJson, 'name'> & Partial<Pick<AppJson, 'config' | 'annotations' | 'syslog_url' | 'shape'>>;
export type NewFn = Omit<FnJson, 'id' | 'shape' | 'created_at' | 'updated_at' | 'config'> & { config?: ConfigMap };
export type NewTrigger = Omit<TriggerJson, 'id' | 'created_at' | 'updated_at'>;

/** What an update sends: merged by the server (CONTRACT §4.4); `""` values in config/annotations delete keys. */
export type AppPatch = Partial<Pick<AppJson, 'config' | 'annotations' | 'syslog_url'>>;
export type FnPatch = Partial<
  Pick<FnJson, 'image' | 'memory' | 'timeout' | 'idle_timeout' | 'max_containers' | 'concurrency' | 'config' | 'annotations'>
>;
export type TriggerPatch = Partial<Pick<TriggerJson, 'name' | 'fn_id' | 'source' | 'annotations' | 'options'>>;
