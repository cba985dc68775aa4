import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callSchemas } from '@fnts/api';
import { errors } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { listBody, listOptions } from './pagination.js';

/** A function's recent calls: `GET /v2/fns/{fn_id}/calls` (newest first, Fn's cursor paging) and `.../calls/{call_id}`. */
export function callRecordRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, history } = deps;
  const loadFn = async (id: string) => (await store.getFnById(id)) ?? Promise.reject(errors.fnNotFound());

  return async (api) => {
    api.get(
      '/v2/fns/:fn_id/calls',
      { schema: callSchemas.listCalls },
      async (req) => {
        const fn = await loadFn(req.params.fn_id);
        // Calls that ended in the last moments wait in memory: write them first, so a caller sees its own call.
        await history.flush();
        return listBody(await store.calls.list(fn.id, listOptions(req.query)), (c) => c);
      },
    );

    api.get(
      '/v2/fns/:fn_id/calls/:call_id',
      { schema: callSchemas.getCall },
      async (req) => {
        const fn = await loadFn(req.params.fn_id);
        await history.flush();
        return (await store.calls.get(fn.id, req.params.call_id)) ?? Promise.reject(errors.callNotFound());
      },
    );
  };
}
