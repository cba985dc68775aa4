import Type from 'typebox';
import { failsWith, ok } from './common.js';
import { FnIdParams } from './resources.js';

/* A function's calls over the last hour, summed from its call records: what the web console charts. */

export const FnStatsBucket = Type.Object(
  {
    start: Type.String({ format: 'date-time', description: 'the start of the minute' }),
    calls: Type.Integer({ description: 'calls that ended in this minute' }),
    errors: Type.Integer({ description: 'of those, the ones that did not succeed (error, timeout, killed, …)' }),
    p50_ms: Type.Union([Type.Number(), Type.Null()], { description: 'median duration; null without calls' }),
    p99_ms: Type.Union([Type.Number(), Type.Null()], { description: '99th percentile duration; null without calls' }),
  },
  { title: 'FnStatsBucket' },
);

export const FnStats = Type.Object(
  {
    fn_id: Type.String(),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    bucket_seconds: Type.Integer(),
    buckets: Type.Array(FnStatsBucket, { description: 'oldest first, one per minute, empty minutes included' }),
    calls: Type.Integer({ description: 'ended calls over the whole window' }),
    errors: Type.Integer(),
    p50_ms: Type.Union([Type.Number(), Type.Null()]),
    p99_ms: Type.Union([Type.Number(), Type.Null()]),
    running: Type.Integer({ description: 'calls created in the window that have not ended (queued or running)' }),
    complete: Type.Boolean({
      description: 'false when the kept call records (FNTS_CALL_HISTORY_PER_FN) end inside the window: older minutes are missing, not empty',
    }),
  },
  { title: 'FnStats' },
);
export type FnStats = Type.Static<typeof FnStats>;
export type FnStatsBucket = Type.Static<typeof FnStatsBucket>;

export const statsSchemas = {
  fnStats: {
    operationId: 'getFnStats', summary: 'A function\'s calls per minute, errors and p50/p99 duration over the last hour',
    description: 'Summed from the function\'s call records (the same records as GET /v2/fns/{fn_id}/calls): no second count.',
    tags: ['calls'], params: FnIdParams,
    response: { 200: ok(FnStats, 'one bucket a minute for the last 60 minutes'), ...failsWith('fnNotFound') },
  },
};
