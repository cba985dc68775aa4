import type { FnStats } from '@fnts/api';
import { describe, expect, it } from 'vitest';
import { summariseCalls } from '../src/calls/stats.js';
import type { CallRecord } from '../src/store/models.js';
import { UNKNOWN_ID, createApp, createFn, expectError, req, useApiServer } from './support/api.js';

/** A function's last hour for the web console: summed from call records, one bucket a minute. */

const NOW = Date.parse('2026-11-30T12:00:30.000Z');
let seq = 0;
function record(endedSecondsAgo: number | undefined, durationMs: number, status: CallRecord['status'] = 'success'): CallRecord {
  const end = endedSecondsAgo === undefined ? undefined : NOW - endedSecondsAgo * 1000;
  const created = (end ?? NOW) - durationMs;
  return {
    id: String(seq++), app_id: 'a', fn_id: 'f', type: 'sync', status, attempts: 1,
    created_at: new Date(created).toISOString(),
    ...(end === undefined ? {} : { completed_at: new Date(end).toISOString(), duration_ms: durationMs }),
  };
}

describe('summariseCalls', () => {
  it('counts calls and errors in the minute they ended, with nearest-rank p50 and p99', () => {
    const inLastMinute = Array.from({ length: 100 }, (_, i) => record(10, i + 1, i < 3 ? 'error' : 'success'));
    const stats = summariseCalls('f', [...inLastMinute, record(125, 7, 'timeout'), record(undefined, 0, 'running')], NOW, true);
    expect(stats.buckets).toHaveLength(60);
    expect(stats.to).toBe('2026-11-30T12:01:00.000Z');
    expect(stats.from).toBe('2026-11-30T11:01:00.000Z');
    const last = stats.buckets[59];
    expect(last).toMatchObject({ start: '2026-11-30T12:00:00.000Z', calls: 100, errors: 3, p50_ms: 50, p99_ms: 99 });
    expect(stats.buckets[57]).toMatchObject({ calls: 1, errors: 1, p50_ms: 7, p99_ms: 7 });
    expect(stats.buckets[0]).toMatchObject({ calls: 0, errors: 0, p50_ms: null, p99_ms: null });
    expect(stats).toMatchObject({ calls: 101, errors: 4, running: 1, complete: true });
  });

  it('leaves out calls that ended before the hour, and says the window is incomplete when records ran out inside it', () => {
    const stats = summariseCalls('f', [record(30, 5), record(3700, 5)], NOW, false);
    expect(stats.calls).toBe(1);
    expect(stats.complete).toBe(true);
    expect(summariseCalls('f', [record(30, 5)], NOW, false).complete).toBe(false);
  });
});

describe('GET /v2/fns/{fn_id}/stats', () => {
  useApiServer();

  it('answers an hour of empty minutes for a function never called, and 404 for an unknown one', async () => {
    const app = await createApp({ name: 'stats' });
    const fn = await createFn({ app_id: app.id, name: 'quiet', image: 'fnts/quiet:0.0.1' });
    const res = await req('GET', `/v2/fns/${fn.id}/stats`);
    expect(res.statusCode, res.body).toBe(200);
    const stats = res.json<FnStats>();
    expect(stats).toMatchObject({ fn_id: fn.id, bucket_seconds: 60, calls: 0, errors: 0, p50_ms: null, running: 0, complete: true });
    expect(stats.buckets.every((b) => b.calls === 0)).toBe(true);
    expectError(await req('GET', `/v2/fns/${UNKNOWN_ID}/stats`), 404, 'Fn not found', 'FNTS_ERR_FN_NOT_FOUND');
  });
});
