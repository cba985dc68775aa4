import Type from 'typebox';

/**
 * Request schemas. Fields are optional at the schema level on purpose: a missing field gets Fn's own
 * message from the resource validators, while a wrongly-typed one fails here as `Invalid JSON` (CONTRACT §4.3).
 */
const StringMap = Type.Record(Type.String(), Type.String());
const NullableStringMap = Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]));
const AnnotationMap = Type.Record(Type.String(), Type.Unknown());

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

export const ListQuery = Type.Object({
  cursor: Type.Optional(Type.String()),
  per_page: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  app_id: Type.Optional(Type.String()),
  fn_id: Type.Optional(Type.String()),
});
export type ListQuery = Type.Static<typeof ListQuery>;

export const AppIdParams = Type.Object({ app_id: Type.String() });
export const FnIdParams = Type.Object({ fn_id: Type.String() });

export { StringMap };

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

export const TriggerIdParams = Type.Object({ trigger_id: Type.String() });

// Response shapes (CONTRACT §4.2). They document the API in /v2/openapi.json and drive fastify's serializer.
const DateTime = Type.String({ format: 'date-time' });

export const AppResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  config: Type.Optional(StringMap),
  annotations: Type.Optional(AnnotationMap),
  syslog_url: Type.Optional(Type.String()),
  shape: Type.Optional(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
});

export const FnResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  app_id: Type.String(),
  image: Type.String(),
  memory: Type.Optional(Type.Integer()),
  timeout: Type.Optional(Type.Integer()),
  idle_timeout: Type.Optional(Type.Integer()),
  max_containers: Type.Optional(Type.Integer()),
  concurrency: Type.Optional(Type.Integer()),
  config: StringMap,
  annotations: Type.Optional(AnnotationMap),
  shape: Type.Optional(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
});

export const TriggerResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  app_id: Type.String(),
  fn_id: Type.String(),
  type: Type.String(),
  source: Type.String(),
  annotations: Type.Optional(AnnotationMap),
  options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  created_at: DateTime,
  updated_at: DateTime,
});

const ListOf = <T extends Type.TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Type.Optional(Type.String()) });
export const AppList = ListOf(AppResponse);
export const FnList = ListOf(FnResponse);
export const TriggerList = ListOf(TriggerResponse);

export const ErrorResponse = Type.Object({
  message: Type.String(),
  code: Type.String(),
  detail: Type.Optional(Type.String()),
});
export type AppJson = Type.Static<typeof AppResponse>;
export type FnJson = Type.Static<typeof FnResponse>;
export type TriggerJson = Type.Static<typeof TriggerResponse>;
