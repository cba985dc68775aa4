import Type from 'typebox';
import { API_ERRORS, type ApiErrorName } from '../errors.js';

/** Config values are strings; `""` (or `null` on a write) deletes the key (CONTRACT §4.4). */
export const StringMap = Type.Record(Type.String(), Type.String());
export const NullableStringMap = Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]));
/** Annotations: any non-empty JSON value per key (CONTRACT §4.5). */
export const AnnotationMap = Type.Record(Type.String(), Type.Unknown());
export const DateTime = Type.String({ format: 'date-time' });

export type ConfigMap = Type.Static<typeof StringMap>;
export type Annotations = Type.Static<typeof AnnotationMap>;

/** One page of a list: `next_cursor` is there only when there may be more (CONTRACT §4.6). */
export const ListOf = <T extends Type.TSchema>(item: T, title: string) =>
  Type.Object(
    {
      items: Type.Array(item),
      next_cursor: Type.Optional(Type.String({ description: 'pass as `cursor` to read the next page' })),
    },
    { title },
  );
export interface List<T> {
  items: T[];
  next_cursor?: string;
}

export const ListQuery = Type.Object({
  cursor: Type.Optional(Type.String({ description: 'the `next_cursor` of the previous page, unchanged' })),
  per_page: Type.Optional(Type.String({ description: 'page size, 30 by default, at most 100' })),
  name: Type.Optional(Type.String({ description: 'only the item with this name' })),
  app_id: Type.Optional(Type.String()),
  fn_id: Type.Optional(Type.String()),
});
export type ListQuery = Type.Static<typeof ListQuery>;

/** Every error answer: a message for people, a stable code for programs (API_ERRORS). */
export const ErrorBody = Type.Object(
  {
    message: Type.String(),
    code: Type.String({ description: 'a stable FNTS_ERR_* code (API_ERRORS)' }),
    detail: Type.Optional(Type.String({
      description: 'what the JSON validator said, for Invalid JSON; the function\'s own error message (at most 4 KiB), for a failed `/invoke` call',
    })),
    call_id: Type.Optional(Type.String({ description: 'the failed call\'s id (also in Fn-Call-Id): its record and output are found by it' })),
  },
  { title: 'Error' },
);
export type ErrorBody = Type.Static<typeof ErrorBody>;

/** A success answer: `schema` described for this operation. */
export function ok<T extends Type.TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}

/** A 204 answer, without a body (`type: null` tells the OpenAPI generator there is no content). */
export const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'Deleted' });

type ErrorResponses = Record<number, typeof ErrorBody & { description: string }>;

/**
 * The error answers of one operation, by status, each described by the codes it may carry. Every operation
 * may also answer 500 (a fault of the server).
 */
export function failsWith(...names: ApiErrorName[]): ErrorResponses {
  const byStatus = new Map<number, string[]>();
  for (const name of [...names, 'internal' as const]) {
    const e = API_ERRORS[name];
    const lines = byStatus.get(e.status) ?? [];
    lines.push(`${e.code}: ${e.description}`);
    byStatus.set(e.status, lines);
  }
  const out: ErrorResponses = {};
  for (const [status, lines] of byStatus) {
    const description = lines.join('; ');
    out[status] = { ...Type.Object(ErrorBody.properties, { title: 'Error' }), description };
  }
  return out;
}
