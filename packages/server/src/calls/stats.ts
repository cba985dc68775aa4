import type { FnStats, FnStatsBucket } from '@fnts/api';
import type { CallRecord } from '../store/models.js';

export const STATS_WINDOW_MS = 3_600_000;
export const STATS_BUCKET_MS = 60_000;

/** The q-quantile of sorted durations (nearest rank, as Prometheus users read p99: a duration some call took). */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? null;
}

/**
 * Sums call records into one bucket a minute over the hour before `nowMs`. Ended calls count in the minute they ended;
 * `reachedEnd` says the records given are all those kept, so a window older than the oldest is complete.
 */
export function summariseCalls(fnId: string, records: readonly CallRecord[], nowMs: number, reachedEnd: boolean): FnStats {
  // Whole minutes, so a chart's bars do not shift under the reader every few seconds.
  const toMs = Math.ceil(nowMs / STATS_BUCKET_MS) * STATS_BUCKET_MS;
  const fromMs = toMs - STATS_WINDOW_MS;
  const n = STATS_WINDOW_MS / STATS_BUCKET_MS;
  const durations: number[][] = Array.from({ length: n }, () => []);
  const errors = new Array<number>(n).fill(0);
  let running = 0;
  let oldestMs = Infinity;
  for (const r of records) {
    oldestMs = Math.min(oldestMs, Date.parse(r.created_at));
    if (r.completed_at === undefined) {
      if (Date.parse(r.created_at) >= fromMs) running++;
      continue;
    }
    const i = Math.floor((Date.parse(r.completed_at) - fromMs) / STATS_BUCKET_MS);
    if (i < 0 || i >= n) continue;
    durations[i]?.push(r.duration_ms ?? 0);
    if (r.status !== 'success') errors[i] = (errors[i] ?? 0) + 1;
  }
  const all: number[] = [];
  const buckets: FnStatsBucket[] = durations.map((d, i) => {
    d.sort((a, b) => a - b);
    for (const x of d) all.push(x);
    return {
      start: new Date(fromMs + i * STATS_BUCKET_MS).toISOString(),
      calls: d.length, errors: errors[i] ?? 0, p50_ms: quantile(d, 0.5), p99_ms: quantile(d, 0.99),
    };
  });
  all.sort((a, b) => a - b);
  return {
    fn_id: fnId,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    bucket_seconds: STATS_BUCKET_MS / 1000,
    buckets,
    calls: all.length,
    errors: errors.reduce((a, b) => a + b, 0),
    p50_ms: quantile(all, 0.5),
    p99_ms: quantile(all, 0.99),
    running,
    complete: reachedEnd || oldestMs <= fromMs,
  };
}
