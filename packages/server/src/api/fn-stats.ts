import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { statsSchemas } from '@fnts/api';
import { STATS_WINDOW_MS, summariseCalls } from '../calls/stats.js';
import { errors } from '../errors.js';
import type { CallRecord } from '../store/models.js';
import type { ApiDeps } from './deps.js';

const PAGE = 500;
/** At most this many records are read per answer, so a function called thousands of times a minute costs a bounded read. */
const MAX_PAGES = 20;

/** `GET /v2/fns/{fn_id}/stats`: the last hour of a function's calls, summed from its call records (what the console charts). */
export function fnStatsRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, history } = deps;
  return async (api) => {
    api.get('/v2/fns/:fn_id/stats', { schema: statsSchemas.fnStats }, async (req) => {
      const fn = await store.getFnById(req.params.fn_id);
      if (!fn) throw errors.fnNotFound();
      await history.flush();
      const nowMs = Date.now();
      // A call created before the window may still end inside it: read back one timeout further.
      const oldestNeeded = nowMs - STATS_WINDOW_MS - fn.timeout * 1000 - 60_000;
      const records: CallRecord[] = [];
      let after: string | undefined;
      let reachedEnd = false;
      for (let page = 0; page < MAX_PAGES; page++) {
        const got = await store.calls.list(fn.id, { limit: PAGE, ...(after !== undefined ? { after } : {}) });
        records.push(...got.items);
        const last = got.items[got.items.length - 1];
        if (got.nextCursor === undefined || last === undefined) {
          reachedEnd = true;
          break;
        }
        if (Date.parse(last.created_at) < oldestNeeded) break;
        after = got.nextCursor;
      }
      // Every record read, and retention cut none by count or by age: the minutes before the first call are truly empty.
      const { callHistoryPerFn, callHistoryMaxAgeMs } = deps.config;
      const allKept = reachedEnd && records.length < callHistoryPerFn && callHistoryMaxAgeMs >= STATS_WINDOW_MS;
      return summariseCalls(fn.id, records, nowMs, allKept);
    });
  };
}
