// How appends to one embedded-stream partition from several servers get dense offsets on PostgreSQL: the log's way
// (a row per partition holding its next offset, locked and moved in the append's transaction; postgres-log.ts)
// against a transaction-scoped advisory lock per partition with the next offset read as MAX(offset) + 1. Two pools
// (two "servers") with several appenders each, all on one partition, in the same run, alternating.
// Run with `FNTS_BENCH_POSTGRES_URL=postgres://... npm run bench:stream-offsets`.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { PostgresDatastore, PostgresStreamLog } from '@fnts/server/postgres';
import { fmt, percentile, progress, renderTable } from './support.js';

const PLAN = { pools: 2, appendersPerPool: 4, appendsPerAppender: 150, batchSizes: [1, 100], rounds: 2, valueBytes: 100 };

interface Result {
  way: string;
  batch: number;
  appendsPerS: number;
  recordsPerS: number;
  p50: number;
  p99: number;
}

type Append = (streamId: string, n: number) => Promise<void>;

/** The log's own append (row lock on the partition's next-offset row). */
function rowLockAppend(log: PostgresStreamLog): Append {
  const value = randomBytes(PLAN.valueBytes);
  return async (streamId, n) => {
    const stream = { id: streamId, name: streamId, partitions: 1, retention_ms: 3_600_000, created_at: '', updated_at: '' };
    await log.append(stream, Array.from({ length: n }, () => ({ key: null, value })));
  };
}

/** The alternative: an advisory lock per (stream, partition) for the transaction; next offset = MAX(offset) + 1. */
function advisoryAppend(pool: pg.Pool): Append {
  const value = randomBytes(PLAN.valueBytes);
  return async (streamId, n) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1), 0)', [streamId]);
      const { rows } = await c.query<{ next: string }>(
        `SELECT COALESCE(MAX("offset") + 1, 0) AS next FROM stream_messages WHERE stream_id = $1 AND partition = 0`, [streamId]);
      const first = Number(rows[0]?.next ?? 0);
      const offsets = Array.from({ length: n }, (_, i) => first + i);
      await c.query(`INSERT INTO stream_messages (stream_id, partition, "offset", ts, key, value, headers)
        SELECT $1, 0, o, $3, NULL, $4, NULL FROM unnest($2::bigint[]) AS o`, [streamId, offsets, Date.now(), value]);
      await c.query(`SELECT pg_notify('fnts_stream_appends', $1 || '/0')`, [streamId]);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };
}

async function measure(way: string, appends: Append[], streamId: string, batch: number, check: pg.Pool): Promise<Result> {
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(appends.flatMap((append) => Array.from({ length: PLAN.appendersPerPool }, async () => {
    for (let i = 0; i < PLAN.appendsPerAppender; i++) {
      const t = performance.now();
      await append(streamId, batch);
      latencies.push(performance.now() - t);
    }
  })));
  const ms = performance.now() - t0;
  const total = PLAN.pools * PLAN.appendersPerPool * PLAN.appendsPerAppender;
  // Dense and without duplicates, or the figure means nothing.
  const { rows } = await check.query<{ n: string; lo: string; hi: string }>(
    `SELECT COUNT(*) AS n, MIN("offset") AS lo, MAX("offset") AS hi FROM stream_messages WHERE stream_id = $1`, [streamId]);
  const r = rows[0] as { n: string; lo: string; hi: string };
  if (Number(r.n) !== total * batch || Number(r.lo) !== 0 || Number(r.hi) !== total * batch - 1) {
    throw new Error(`${way}: offsets not dense: ${JSON.stringify(r)}`);
  }
  latencies.sort((a, b) => a - b);
  return { way, batch, appendsPerS: (total * 1000) / ms, recordsPerS: (total * batch * 1000) / ms, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function main(): Promise<void> {
  const url = process.env.FNTS_BENCH_POSTGRES_URL;
  if (!url) throw new Error('set FNTS_BENCH_POSTGRES_URL to an empty PostgreSQL database');
  const stores = await Promise.all(Array.from({ length: PLAN.pools }, () => PostgresDatastore.open(url, { maxConnections: PLAN.appendersPerPool })));
  const logs = await Promise.all(stores.map((s) => PostgresStreamLog.open(s)));
  const check = (stores[0] as PostgresDatastore).pool;
  const results: Result[] = [];
  try {
    // Names unique to the run: a database used before is fine too.
    const run = randomBytes(4).toString('hex');
    let n = 0;
    const fresh = async () => {
      const id = `offsets-${run}-${++n}`;
      const now = new Date().toISOString();
      await (logs[0] as PostgresStreamLog).createStream({ id, name: id, partitions: 1, retention_ms: 3_600_000, created_at: now, updated_at: now });
      return id;
    };
    for (let round = 0; round < PLAN.rounds; round++) {
      for (const batch of PLAN.batchSizes) {
        // Alternating, so drift and neighbours hit both alike.
        const order = round % 2 === 0 ? ['row lock', 'advisory lock'] : ['advisory lock', 'row lock'];
        for (const way of order) {
          const appends = way === 'row lock' ? logs.map(rowLockAppend) : stores.map((s) => advisoryAppend(s.pool));
          const r = await measure(way, appends, await fresh(), batch, check);
          results.push(r);
          progress(`round ${round + 1} ${way} batch ${batch}: ${fmt(r.appendsPerS, 0)} appends/s, p50 ${fmt(r.p50)} ms`);
        }
      }
    }
  } finally {
    for (const l of logs) await l.close();
    for (const s of stores) await s.close();
  }
  const best = (way: string, batch: number) => results.filter((r) => r.way === way && r.batch === batch)
    .reduce((a, b) => (a.appendsPerS >= b.appendsPerS ? a : b));
  console.log(`\nDense offsets on one partition: ${PLAN.pools} pools × ${PLAN.appendersPerPool} appenders × `
    + `${PLAN.appendsPerAppender} appends, best of ${PLAN.rounds} alternating rounds`);
  console.log(renderTable(['way', 'batch', 'appends/s', 'records/s', 'p50 ms', 'p99 ms'], PLAN.batchSizes.flatMap((batch) =>
    ['row lock', 'advisory lock'].map((way) => {
      const r = best(way, batch);
      return [way, String(batch), fmt(r.appendsPerS, 0), fmt(r.recordsPerS, 0), fmt(r.p50), fmt(r.p99)];
    }))));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
