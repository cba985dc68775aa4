import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errors } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { listBody, listOptions } from './pagination.js';
import { FnIdParams } from './schemas.js';

const DateTime = Type.String({ format: 'date-time' });

/** Fn's call model, plus the fields fnts's call history shows (type, duration, trigger, batch, error code). */
export const CallResponse = Type.Object({
  id: Type.String(),
  app_id: Type.String(),
  fn_id: Type.String(),
  type: Type.Union([Type.Literal('sync'), Type.Literal('detached')]),
  status: Type.Union([
    Type.Literal('queued'), Type.Literal('running'), Type.Literal('success'),
    Type.Literal('error'), Type.Literal('timeout'), Type.Literal('cancelled'),
  ]),
  created_at: DateTime,
  started_at: Type.Optional(DateTime),
  completed_at: Type.Optional(DateTime),
  duration_ms: Type.Optional(Type.Integer()),
  trigger_id: Type.Optional(Type.String()),
  batch: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  attempts: Type.Integer(),
});
export type CallJson = Type.Static<typeof CallResponse>;
export const CallList = Type.Object({ items: Type.Array(CallResponse), next_cursor: Type.Optional(Type.String()) });

const CallIdParams = Type.Object({ fn_id: Type.String(), call_id: Type.String() });
const CallListQuery = Type.Object({ cursor: Type.Optional(Type.String()), per_page: Type.Optional(Type.String()) });

/** A function's recent calls: `GET /v2/fns/{fn_id}/calls` (newest first, Fn's cursor paging) and `.../calls/{call_id}`. */
export function callRecordRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, history } = deps;
  const loadFn = async (id: string) => (await store.getFnById(id)) ?? Promise.reject(errors.fnNotFound());

  return async (api) => {
    api.get(
      '/v2/fns/:fn_id/calls',
      { schema: { tags: ['calls'], params: FnIdParams, querystring: CallListQuery, response: { 200: CallList } } },
      async (req) => {
        const fn = await loadFn(req.params.fn_id);
        // Calls that ended in the last moments wait in memory: write them first, so a caller sees its own call.
        await history.flush();
        return listBody(await store.calls.list(fn.id, listOptions(req.query)), (c) => c);
      },
    );

    api.get(
      '/v2/fns/:fn_id/calls/:call_id',
      { schema: { tags: ['calls'], params: CallIdParams, response: { 200: CallResponse } } },
      async (req) => {
        const fn = await loadFn(req.params.fn_id);
        await history.flush();
        return (await store.calls.get(fn.id, req.params.call_id)) ?? Promise.reject(errors.callNotFound());
      },
    );
  };
}
