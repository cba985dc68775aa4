import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { setTimeout as sleep } from 'node:timers/promises';
import { callSchemas } from '@fnts/api';
import { errors } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { documentedAs } from './openapi.js';
import { listBody, listOptions } from './pagination.js';

/** How long after a call's end its output may still be on its way from Docker (measured: at most 13 ms over 20 calls, idle). */
const OUTPUT_GRACE_MS = 300;

/**
 * A function's recent calls: `GET /v2/fns/{fn_id}/calls` (newest first, Fn's cursor paging), `.../calls/{call_id}`
 * and what one call printed, `.../calls/{call_id}/log`.
 */
export function callRecordRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, history, agent } = deps;
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

    // From the function's recent output, filtered by call id, rather than a per-call copy: nothing more is kept
    // per call, and a call's output is there as soon as it is printed (while the call runs, too).
    const getCallLog = callSchemas.getCallLog;
    api.get('/v2/fns/:fn_id/calls/:call_id/log', {
      schema: { params: getCallLog.params },
      config: documentedAs(getCallLog),
    }, async (req, reply) => {
      const fn = await loadFn(req.params.fn_id);
      await history.flush();
      const call = await store.calls.get(fn.id, req.params.call_id);
      // Output comes through Docker, a moment after the answer: a call that has just ended gets that moment.
      const sinceEnd = call?.completed_at === undefined ? Infinity : Date.now() - Date.parse(call.completed_at);
      if (sinceEnd < OUTPUT_GRACE_MS) await sleep(OUTPUT_GRACE_MS - Math.max(0, sinceEnd));
      const { lines, complete } = agent.logs.ofCall(fn.id, req.params.call_id, call?.created_at);
      if (lines.length === 0) {
        if (!call) throw errors.callNotFound();
        if (!complete) throw errors.callLogNotKept();
      }
      // A long line was kept in pieces; all but the last are marked `continues`.
      const text = lines.map((l) => (l.continues ? l.line : `${l.line}\n`)).join('');
      return reply.type('text/plain; charset=utf-8').send(text);
    });
  };
}
