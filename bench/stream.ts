// Stream benchmark: records per second end to end (put → function → commit) through the stream-trigger engine
// with a no-op function, for 1 and 4 partitions and batch sizes 1, 100 and 1000, against plain read loops over the
// same log in the same run; and append → invoke-start latency at max_wait_ms 0. On SQLite, and on PostgreSQL
// on a throwaway PostgreSQL cluster (or the empty database FNTS_BENCH_POSTGRES_URL names; one server), side by side.
// Run with `npm run bench:stream`; see bench/README.md for what each figure means.
import type { TriggerStatus } from '@fnts/api';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { Pool } from 'undici';
import { buildApp, loadConfig, Metrics, SqliteDatastore } from '@fnts/server';
import { PostgresDatastore } from '@fnts/server/postgres';
import { createDatabase, postgresBinDir, startPostgresCluster } from './postgres.js';
import { dockerClient } from '@fnts/cli/dist/build/docker-build.js';
import { buildFunctionImage } from '@fnts/cli/dist/build/function-image.js';
import {
  CleanupStack, fmt, JsonApi, msSince, percentile, pollUntil, progress, removeLabelled, renderTable, sleep, writeResults,
} from './support.js';

/** How much work each phase does; sized so the whole run stays well under 3 minutes on 2 cores. */
const PLAN = {
  throughput: [
    { partitions: 1, batchSize: 1, records: 2_000 },
    { partitions: 1, batchSize: 100, records: 50_000 },
    { partitions: 1, batchSize: 1000, records: 100_000 },
    { partitions: 4, batchSize: 1, records: 2_000 },
    { partitions: 4, batchSize: 100, records: 50_000 },
    { partitions: 4, batchSize: 1000, records: 100_000 },
  ],
  /** Bytes of each record's value (no key, no headers: records go round robin over the partitions). */
  valueBytes: 100,
  /** Records per `POST /v2/streams/{name}/messages` when pre-loading. */
  putChunk: 1000,
  /** Records per partition of the unmeasured warm-up run before each partition count (starts the containers). */
  warmupPerPartition: 50,
  /** Cap on the warm-up rounds of one partition count. */
  warmupMaxMs: 20_000,
  statusPollMs: 20,
  /** Cap on one engine run; a capped run is flagged and its rate computed from what was committed. */
  runMaxMs: 40_000,
  latency: { records: 200, spacingMs: 10, warmup: 10, batchSize: 100, logWaitMs: 5000 },
} as const;

const BENCH_LABEL = 'fnts.bench';
const DLQ = 'bench.dlq';
/** BENCH_STREAM_CELLS=1x1,4x1 runs only those throughput cells (partitions x batch size), e.g. under a profiler. */
const CELLS = process.env.BENCH_STREAM_CELLS?.split(',');
const wanted = (c: { partitions: number; batchSize: number }): boolean => !CELLS || CELLS.includes(`${c.partitions}x${c.batchSize}`);
/** BENCH_STREAM_STORES=sqlite leaves PostgreSQL out. */
const STORES = process.env.BENCH_STREAM_STORES?.split(',');
/** A no-op batch function; with BENCH_LOG=1 (fn config) it logs when each call starts and which offsets it got. */
const FUNC_SOURCE = `import { handle } from '@fnts/fdk';
const log = process.env.BENCH_LOG === '1';
handle(async (ev: { source?: { partition?: number }; batch?: { firstOffset: number; lastOffset: number } }) => {
  if (log && ev.batch) {
    const now = performance.timeOrigin + performance.now();
    console.log(\`BENCH_START \${now.toFixed(3)} \${ev.source?.partition ?? 0} \${ev.batch.firstOffset} \${ev.batch.lastOffset}\`);
  }
  return { failures: [] };
});
`;
const START_LINE = /BENCH_START (\d+(?:\.\d+)?) (\d+) (\d+) (\d+)/;

/** Wall-clock milliseconds with microsecond resolution; the container's Node reads the same kernel clock. */
const wallMs = (): number => performance.timeOrigin + performance.now();

/** One page of a partition from the store itself (the embedded log's query, written out): the offsets it holds. */
type StoreRead = (streamId: string, partition: number, offset: number, limit: number) => Promise<number[]>;

interface Ctx {
  api: JsonApi;
  /** The storage ceiling's reader, on the server's own connection (SQLite) or pool (PostgreSQL). */
  storeRead: StoreRead;
  metrics: Metrics;
  docker: Docker;
  label: string;
  appId: string;
}

async function createStream(ctx: Ctx, name: string, partitions: number): Promise<string> {
  return (await ctx.api.call<{ id: string }>('POST', '/v2/streams', { name, partitions })).id;
}

/** Appends `n` records of PLAN.valueBytes in chunks; each value carries its index so no two are equal. */
async function preload(ctx: Ctx, stream: string, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const value = randomBytes(PLAN.valueBytes);
  for (let i = 0; i < n; i += PLAN.putChunk) {
    const messages: { value: string }[] = [];
    for (let j = i; j < Math.min(n, i + PLAN.putChunk); j++) {
      value.writeUInt32BE(j, 0);
      messages.push({ value: value.toString('base64') });
    }
    await ctx.api.call('POST', `/v2/streams/${stream}/messages`, { encoding: 'base64', messages });
  }
  return msSince(t0);
}

function streamTrigger(ctx: Ctx, fnId: string, name: string, stream: string, batchSize: number): Promise<{ id: string }> {
  return ctx.api.call<{ id: string }>('POST', '/v2/triggers', {
    app_id: ctx.appId, fn_id: fnId, name, type: 'stream', source: stream,
    options: {
      batch_size: batchSize, max_wait_ms: 0, start_position: 'earliest', value_encoding: 'base64', dead_letter_stream: DLQ,
    },
  });
}

const status = (ctx: Ctx, triggerId: string) => ctx.api.call<TriggerStatus>('GET', `/v2/triggers/${triggerId}/status`);

/** Polls the trigger's status until every partition has committed its end offset; undefined at the cap. */
function untilCommitted(ctx: Ctx, triggerId: string, partitions: number, maxMs: number, last?: { status?: TriggerStatus }) {
  return pollUntil(async () => {
    const s = await status(ctx, triggerId);
    if (last) last.status = s;
    return s.partitions.length === partitions && s.partitions.every((p) => p.committed >= p.end) ? s : undefined;
  }, { intervalMs: PLAN.statusPollMs, timeoutMs: maxMs });
}

/** Batches counted by the engine's own metric for one trigger, by outcome. */
async function batchOutcomes(metrics: Metrics, triggerId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.streamBatches.counter.get()).values) {
    if (v.labels.trigger_id !== triggerId) continue;
    const outcome = String(v.labels.outcome);
    out[outcome] = (out[outcome] ?? 0) + v.value;
  }
  return out;
}

async function fnContainers(ctx: Ctx, fnId: string): Promise<number> {
  return (await ctx.docker.listContainers({ filters: { label: [ctx.label, `fnts.fn=${fnId}`], status: ['running'] } })).length;
}

interface EngineRun {
  ms: number;
  createMs: number;
  committed: number;
  recordsPerS: number;
  batches: Record<string, number>;
  containers: number;
  truncated: boolean;
  lastStatus?: TriggerStatus;
}

/**
 * The measured engine run: creates the trigger (start position earliest over the pre-loaded stream) and times until
 * the status shows every partition committed to its end; then deletes the trigger.
 */
async function engineRun(ctx: Ctx, fnId: string, name: string, stream: string, partitions: number, batchSize: number, maxMs: number): Promise<EngineRun> {
  const t0 = process.hrtime.bigint();
  const trigger = await streamTrigger(ctx, fnId, name, stream, batchSize);
  const createMs = msSince(t0);
  const last: { status?: TriggerStatus } = {};
  const done = await untilCommitted(ctx, trigger.id, partitions, maxMs, last);
  const ms = msSince(t0);
  const final = done ?? last.status;
  const committed = (final?.partitions ?? []).reduce((n, p) => n + p.committed, 0);
  const batches = await batchOutcomes(ctx.metrics, trigger.id);
  const containers = await fnContainers(ctx, fnId);
  await ctx.api.call('DELETE', `/v2/triggers/${trigger.id}`);
  return {
    ms, createMs, committed, recordsPerS: (committed * 1000) / ms, batches, containers, truncated: !done,
    ...(done ? {} : { lastStatus: final }),
  };
}

interface ReadRun {
  ms: number;
  records: number;
  reads: number;
  recordsPerS: number;
}

/** The plain consumer: `GET /v2/streams/{name}/messages` partition by partition, `limit` records per request. */
async function plainHttpRead(ctx: Ctx, stream: string, partitions: number, limit: number): Promise<ReadRun> {
  const t0 = process.hrtime.bigint();
  let records = 0;
  let reads = 0;
  for (let p = 0; p < partitions; p++) {
    let offset = 0;
    for (;;) {
      const page = await ctx.api.call<{ messages: unknown[]; next_offset: number; end_offset: number }>(
        'GET', `/v2/streams/${stream}/messages?partition=${p}&offset=${offset}&limit=${limit}&encoding=base64`);
      reads++;
      records += page.messages.length;
      if (page.messages.length === 0 || page.next_offset >= page.end_offset) break;
      offset = page.next_offset;
    }
  }
  const ms = msSince(t0);
  return { ms, records, reads, recordsPerS: (records * 1000) / ms };
}

/**
 * The storage ceiling: the same query shape as the embedded log's read, on the server's own store connection,
 * partition by partition, `limit` rows per query (written out here so the baseline does not depend on the engine).
 */
async function plainStoreRead(ctx: Ctx, streamId: string, partitions: number, limit: number): Promise<ReadRun> {
  const t0 = process.hrtime.bigint();
  let records = 0;
  let reads = 0;
  for (let p = 0; p < partitions; p++) {
    let offset = 0;
    for (;;) {
      const offsets = await ctx.storeRead(streamId, p, offset, limit);
      reads++;
      records += offsets.length;
      if (offsets.length < limit) break;
      offset = (offsets[offsets.length - 1] as number) + 1;
    }
  }
  const ms = msSince(t0);
  return { ms, records, reads, recordsPerS: (records * 1000) / ms };
}

function sqliteRead(store: SqliteDatastore): StoreRead {
  const read = store.db.prepare(`SELECT partition, offset, ts, key, value, headers FROM stream_messages
    WHERE stream_id = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?`);
  return async (streamId, partition, offset, limit) =>
    (read.all(streamId, partition, offset, limit) as { offset: number }[]).map((r) => r.offset);
}

function postgresRead(store: PostgresDatastore): StoreRead {
  return async (streamId, partition, offset, limit) => (await store.pool.query<{ offset: number }>(
    `SELECT partition, "offset", ts, key, value, headers FROM stream_messages
      WHERE stream_id = $1 AND partition = $2 AND "offset" >= $3 ORDER BY "offset" LIMIT $4`,
    [streamId, partition, offset, limit])).rows.map((r) => Number(r.offset));
}

interface ThroughputResult {
  partitions: number;
  batchSize: number;
  records: number;
  preloadMs: number;
  engine: EngineRun;
  /** The faster of the two plain HTTP reads (before and after the engine run); both are in `plainRuns`. */
  plainHttp: ReadRun;
  plainStore: ReadRun;
  plainRuns: { before: { http: ReadRun; store: ReadRun }; after: { http: ReadRun; store: ReadRun } };
  /** engine records/s ÷ plain read records/s. */
  ratioHttp: number;
  ratioStore: number;
  /** Engine wall time per delivered batch (ok outcomes), ms. */
  engineMsPerBatch: number;
  httpMsPerRead: number;
  loadavg1: number;
}

async function throughputCell(ctx: Ctx, fnId: string, cell: (typeof PLAN.throughput)[number]): Promise<ThroughputResult> {
  const { partitions, batchSize, records } = cell;
  const name = `bench-p${partitions}-b${batchSize}`;
  const streamId = await createStream(ctx, name, partitions);
  const preloadMs = await preload(ctx, name, records);
  // The plain reads run once before and once after the engine (cache, JIT and neighbours differ between the two);
  // the faster of each counts, so the ratios lean against the engine rather than for it.
  const reads = async () => {
    const http = await plainHttpRead(ctx, name, partitions, Math.min(batchSize, 1000));
    const store = await plainStoreRead(ctx, streamId, partitions, batchSize);
    for (const r of [http, store]) {
      if (r.records !== records) throw new Error(`plain read of ${name} saw ${r.records} records, expected ${records}`);
    }
    return { http, store };
  };
  const before = await reads();
  const engine = await engineRun(ctx, fnId, `t-${name}`, name, partitions, batchSize, PLAN.runMaxMs);
  const after = await reads();
  const faster = (a: ReadRun, b: ReadRun) => (a.recordsPerS >= b.recordsPerS ? a : b);
  const plainHttp = faster(before.http, after.http);
  const plainStore = faster(before.store, after.store);
  await ctx.api.call('DELETE', `/v2/streams/${name}`);
  const ok = (engine.batches.ok ?? 0) + (engine.batches.partial ?? 0);
  return {
    partitions, batchSize, records, preloadMs, engine, plainHttp, plainStore, plainRuns: { before, after },
    ratioHttp: engine.recordsPerS / plainHttp.recordsPerS,
    ratioStore: engine.recordsPerS / plainStore.recordsPerS,
    engineMsPerBatch: ok > 0 ? engine.ms / ok : Number.NaN,
    httpMsPerRead: plainHttp.ms / plainHttp.reads,
    loadavg1: loadavg()[0] ?? Number.NaN,
  };
}

/**
 * Unmeasured runs (plain reads, then the engine) until the function has one hot container per partition (the pool starts containers while calls
 * wait, so they may arrive after a short run ends): repeated until the count reaches the partitions and holds.
 */
async function warmUp(ctx: Ctx, fnId: string, partitions: number): Promise<number> {
  const deadline = Date.now() + PLAN.warmupMaxMs;
  let containers = 0;
  for (let round = 0; ; round++) {
    const name = `bench-warm-p${partitions}-${round}`;
    const streamId = await createStream(ctx, name, partitions);
    await preload(ctx, name, PLAN.warmupPerPartition * partitions);
    // The plain reads get the same warm-up (JIT, connections), so the first measured cell is not the cold one.
    for (const limit of [1, 1, 1, 1, 10, 100]) {
      await plainHttpRead(ctx, name, partitions, limit);
      await plainStoreRead(ctx, streamId, partitions, limit);
    }
    const run = await engineRun(ctx, fnId, `t-${name}`, name, partitions, 1, 30_000);
    await ctx.api.call('DELETE', `/v2/streams/${name}`);
    if (run.truncated) throw new Error(`warm-up with ${partitions} partition(s) did not finish: ${JSON.stringify(run.lastStatus)}`);
    const before = containers;
    containers = run.containers;
    if ((containers >= partitions && containers === before) || Date.now() > deadline) return containers;
    await sleep(300); // lets a container that is starting come up before the next round
  }
}

interface LatencyResult {
  records: number;
  /** Calls that carried the measured records (records put while a call runs share the next one). */
  batches: number;
  latencyMs: { p50: number; p99: number; mean: number; min: number; max: number };
  /** Round trip of the single-record `POST .../messages` (the append itself, for reference). */
  putAckMs: { p50: number; p99: number };
  missing: number;
  samplesMs: number[];
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
    min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN,
  };
};

/** Single-record puts into a 1-partition stream with a running trigger (max_wait_ms 0); send → function start. */
async function appendLatency(ctx: Ctx, fnId: string): Promise<LatencyResult> {
  const plan = PLAN.latency;
  const name = 'bench-latency';
  await createStream(ctx, name, 1);
  const trigger = await streamTrigger(ctx, fnId, `t-${name}`, name, plan.batchSize);
  const put = async (i: number) => {
    const value = randomBytes(PLAN.valueBytes);
    value.writeUInt32BE(i, 0);
    const res = await ctx.api.call<{ offsets: { offset: number }[] }>('POST', `/v2/streams/${name}/messages`, {
      encoding: 'base64', messages: [{ value: value.toString('base64') }],
    });
    return (res.offsets[0] as { offset: number }).offset;
  };
  // Warm-up: the probe's container starts on the first record.
  for (let i = 0; i < plan.warmup; i++) await put(i);
  if (!(await untilCommitted(ctx, trigger.id, 1, 30_000))) throw new Error('latency warm-up records were not committed');

  const sent = new Map<number, number>();
  const acks: number[] = [];
  for (let i = 0; i < plan.records; i++) {
    const t0 = wallMs();
    const offset = await put(plan.warmup + i);
    acks.push(wallMs() - t0);
    sent.set(offset, t0);
    const wait = t0 + plan.spacingMs - wallMs();
    if (wait > 0) await sleep(wait);
  }
  if (!(await untilCommitted(ctx, trigger.id, 1, 30_000))) throw new Error('latency records were not all committed');
  // The function's output reaches the log ring asynchronously; wait (bounded) until every measured offset is there.
  const started = new Map<number, number>();
  let batches = new Set<string>();
  await pollUntil(async () => {
    const text = await ctx.api.text(`/v2/fns/${fnId}/logs?tail=1000`);
    started.clear();
    batches = new Set();
    for (const line of text.split('\n')) {
      if (!line) continue;
      const m = START_LINE.exec((JSON.parse(line) as { line: string }).line);
      if (!m) continue;
      const [, t, , first, last] = m;
      let counted = false;
      for (let o = Number(first); o <= Number(last); o++) {
        if (!sent.has(o) || started.has(o)) continue; // warm-up record, or a redelivery (keep the first call)
        started.set(o, Number(t));
        counted = true;
      }
      if (counted) batches.add(`${first}-${last}`);
    }
    return started.size === sent.size ? true : undefined;
  }, { intervalMs: 50, timeoutMs: plan.logWaitMs });
  await ctx.api.call('DELETE', `/v2/triggers/${trigger.id}`);
  await ctx.api.call('DELETE', `/v2/streams/${name}`);
  const samplesMs: number[] = [];
  for (const [offset, t0] of sent) {
    const t = started.get(offset);
    if (t !== undefined) samplesMs.push(t - t0);
  }
  const ack = stats(acks);
  return {
    records: sent.size, batches: batches.size, latencyMs: stats(samplesMs), putAckMs: { p50: ack.p50, p99: ack.p99 },
    missing: sent.size - samplesMs.length, samplesMs,
  };
}

function throughputTable(rows: ThroughputResult[]): string {
  return renderTable(
    ['part.', 'batch', 'records', 'calls', 'engine s', 'engine rec/s', 'wall ms/call', 'plain HTTP rec/s', 'ms/read', 'engine÷HTTP',
      'store rec/s', 'engine÷store', 'containers'],
    rows.map((r) => [
      String(r.partitions), String(r.batchSize), String(r.records),
      String((r.engine.batches.ok ?? 0) + (r.engine.batches.partial ?? 0)),
      fmt(r.engine.ms / 1000, 2) + (r.engine.truncated ? ' (capped)' : ''), fmt(r.engine.recordsPerS, 0), fmt(r.engineMsPerBatch, 2),
      fmt(r.plainHttp.recordsPerS, 0), fmt(r.httpMsPerRead, 2), `${fmt(r.ratioHttp, 3)}×`,
      fmt(r.plainStore.recordsPerS, 0), `${fmt(r.ratioStore, 4)}×`, String(r.engine.containers),
    ]),
  );
}

interface StoreRun {
  store: 'SQLite' | 'PostgreSQL';
  throughput: ThroughputResult[];
  latency: LatencyResult;
}

interface StoreSetup {
  config: ReturnType<typeof loadConfig>;
  store: SqliteDatastore | PostgresDatastore;
  storeRead: StoreRead;
}

/** The whole plan on one store: a server of its own, the same image; closed at the end. */
async function runOn(name: StoreRun['store'], setup: StoreSetup, docker: Docker, label: string, runId: string, image: string, cleanup: CleanupStack): Promise<StoreRun> {
  progress(`--- ${name} ---`);
  const metrics = new Metrics();
  const app = await buildApp({ config: setup.config, store: setup.store, metrics });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  cleanup.add(`close the ${name} server`, close);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const http = new Pool(`http://127.0.0.1:${port}`, { connections: 8, keepAliveTimeout: 60_000 });
  try {
    const api = new JsonApi(http);
    const benchApp = await api.call<{ id: string }>('POST', '/v2/apps', { name: `bench-${runId}` });
    const ctx: Ctx = { api, storeRead: setup.storeRead, metrics, docker, label, appId: benchApp.id };
    const fnBody = { app_id: benchApp.id, image, memory: 128, timeout: 30, idle_timeout: 3600 };
    const noop = await api.call<{ id: string }>('POST', '/v2/fns', { ...fnBody, name: 'noop' });
    const probe = await api.call<{ id: string }>('POST', '/v2/fns', { ...fnBody, name: 'probe', config: { BENCH_LOG: '1' } });

    const throughput: ThroughputResult[] = [];
    let warmFor = 0;
    for (const cell of PLAN.throughput.filter(wanted)) {
      if (cell.partitions !== warmFor) {
        const tw = process.hrtime.bigint();
        const containers = await warmUp(ctx, noop.id, cell.partitions);
        progress(`warm-up for ${cell.partitions} partition(s): ${(msSince(tw) / 1000).toFixed(1)} s, ${containers} container(s)`);
        warmFor = cell.partitions;
      }
      const r = await throughputCell(ctx, noop.id, cell);
      throughput.push(r);
      progress(`p=${r.partitions} batch=${r.batchSize}: ${r.records} records pre-loaded in ${(r.preloadMs / 1000).toFixed(2)} s; `
        + `engine ${fmt(r.engine.recordsPerS, 0)} rec/s, plain HTTP ${fmt(r.plainHttp.recordsPerS, 0)} rec/s`);
    }
    progress('append → invoke-start latency');
    const latency = await appendLatency(ctx, probe.id);
    return { store: name, throughput, latency };
  } finally {
    await http.close();
    // Its containers go with it, so the next store's server starts its own.
    await close();
  }
}

function printRun({ store, throughput, latency }: StoreRun): void {
  console.log(`\n=== ${store} ===`);
  console.log(`Throughput, put → function → commit (no-op function, ${PLAN.valueBytes}-byte values, max_wait_ms 0, start earliest over a pre-loaded stream)`);
  console.log(throughputTable(throughput));
  console.log('engine s: trigger create → status shows every partition committed to its end (polled every '
    + `${PLAN.statusPollMs} ms); the engine runs partitions concurrently.`);
  console.log(`plain reads: GET /v2/streams/{name}/messages (HTTP) and the same SELECT on the server's ${store} connection `
    + '(in-process), partition by partition, limit = batch; the faster of a run before and one after the engine.');
  if (throughput.some((r) => r.engine.truncated)) console.log(`(a capped run stopped at ${PLAN.runMaxMs / 1000} s; its rate counts what was committed)`);
  const odd = throughput.filter((r) => Object.keys(r.engine.batches).some((k) => k !== 'ok'));
  for (const r of odd) console.log(`note: p=${r.partitions} batch=${r.batchSize} batch outcomes ${JSON.stringify(r.engine.batches)}`);

  console.log(`\nAppend → invoke start, 1 partition, max_wait_ms 0, batch_size ${PLAN.latency.batchSize}: `
    + `${latency.records} single-record puts ${PLAN.latency.spacingMs} ms apart`);
  const l = latency.latencyMs;
  console.log(renderTable(['measure', 'p50 ms', 'p99 ms', 'mean ms', 'min ms', 'max ms', 'detail'], [
    ['send → function start', fmt(l.p50), fmt(l.p99), fmt(l.mean), fmt(l.min), fmt(l.max),
      `${latency.batches} calls for ${latency.records} records${latency.missing ? `, ${latency.missing} not seen in the log` : ''}`],
    ['put round trip (append acked)', fmt(latency.putAckMs.p50), fmt(latency.putAckMs.p99), '', '', '', ''],
  ]));
}

/** Engine records/s and append → invoke latency of each store, one column each, from the same run. */
function printSideBySide(runs: StoreRun[]): void {
  console.log('\nSide by side (same run, same machine, same image; figures are noisy on a shared machine)');
  const cells = (runs[0] as StoreRun).throughput.map((r, i) => [
    `engine rec/s, ${r.partitions} part., batch ${r.batchSize}`,
    ...runs.map((run) => fmt(run.throughput[i]?.engine.recordsPerS ?? Number.NaN, 0)),
  ]);
  console.log(renderTable(['measure', ...runs.map((r) => r.store)], [
    ...cells,
    ['append → invoke start p50 ms', ...runs.map((r) => fmt(r.latency.latencyMs.p50))],
    ['append → invoke start p99 ms', ...runs.map((r) => fmt(r.latency.latencyMs.p99))],
    ['put round trip p50 ms', ...runs.map((r) => fmt(r.latency.putAckMs.p50))],
  ]));
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const runId = randomBytes(4).toString('hex');
  const label = `${BENCH_LABEL}=${runId}`;
  const labels = { [BENCH_LABEL]: runId };
  const work = await mkdtemp(join(tmpdir(), `fnts-bench-${runId}-`));
  const config = loadConfig({
    // A database file (WAL), as in production, not :memory:.
    FNTS_DB: join(work, 'db', 'fnts.db'), FNTS_LOG_LEVEL: 'warn', FNTS_IOFS_DIR: join(work, 'iofs'),
    FNTS_CONTAINER_LABELS: label, DOCKER_HOST: process.env.DOCKER_HOST,
  });
  const docker = dockerClient(config.dockerSocketPath);
  const cleanup = new CleanupStack();
  cleanup.add('remove the work dir', () => rm(work, { recursive: true, force: true }));
  cleanup.add('remove labelled containers and images', async () => {
    // The server removes its own containers when it closes; anything left here is worth knowing about.
    const left = await removeLabelled(docker, label);
    if (left > 0) console.error(`cleanup: removed ${left} container(s) still labelled ${label}`);
  });
  cleanup.trapSigint();
  const loadBefore = loadavg();
  const env = {
    node: process.version,
    cpus: availableParallelism(),
    date: new Date().toISOString(),
    docker: ((await docker.version()) as { Version?: string }).Version ?? 'unknown',
  };
  console.log(`fnts stream benchmark  run ${runId}  ${env.date}  node ${env.node}  ${env.cpus} CPUs  docker ${env.docker}`);
  console.log(`load average at start: ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
  try {
    const funcDir = join(work, 'func');
    await mkdir(funcDir);
    await writeFile(join(funcDir, 'func.ts'), FUNC_SOURCE);
    const t = process.hrtime.bigint();
    const { image } = await buildFunctionImage(docker, {
      dir: funcDir, version: '0.0.1', labels,
      func: { schema_version: 20180708, name: `fnts-bench-stream-${runId}`, version: '0.0.1', runtime: 'typescript' },
    });
    progress(`built ${image} in ${(msSince(t) / 1000).toFixed(1)} s`);

    const runs: StoreRun[] = [];
    const sqliteStore = new SqliteDatastore(config.dbPath);
    runs.push(await runOn('SQLite', { config, store: sqliteStore, storeRead: sqliteRead(sqliteStore) }, docker, label, runId, image, cleanup));
    // PostgreSQL: the database FNTS_BENCH_POSTGRES_URL names, or a throwaway cluster of Debian's server when it is installed.
    let pgUrl = process.env.FNTS_BENCH_POSTGRES_URL;
    if (STORES && !STORES.includes('postgresql')) pgUrl = '';
    else if (!pgUrl && postgresBinDir()) {
      const cluster = await startPostgresCluster();
      cleanup.add('stop the PostgreSQL cluster', () => cluster.stop());
      pgUrl = await createDatabase(cluster.url, 'fnts_bench');
    }
    if (pgUrl) {
      const pg = await PostgresDatastore.open(pgUrl);
      // The server opens the log itself and leases the partitions as several servers would (one server holds them all).
      runs.push(await runOn('PostgreSQL', { config, store: pg, storeRead: postgresRead(pg) }, docker, label, runId, image, cleanup));
    } else {
      progress(pgUrl === '' ? 'PostgreSQL left out (BENCH_STREAM_STORES)' : 'no PostgreSQL server installed and FNTS_BENCH_POSTGRES_URL not set: SQLite only');
    }

    for (const run of runs) printRun(run);
    if (runs.length > 1) printSideBySide(runs);
    const runtimeS = msSince(started) / 1000;
    const loadAfter = loadavg();
    console.log(`\nload average at end: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}; measured in ${runtimeS.toFixed(1)} s`);

    const file = await writeResults('stream', env.date, {
      runId, ...env, loadavg: { start: loadBefore, end: loadAfter }, plan: PLAN, image, runs, runtimeS,
    });
    console.log(`results: ${file}`);
  } finally {
    await cleanup.run();
    progress(`done in ${(msSince(started) / 1000).toFixed(1)} s, cleanup included`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
