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
