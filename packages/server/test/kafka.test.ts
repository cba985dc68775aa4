import type { TriggerStatus as ApiTriggerStatus } from '@fnts/api';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupOffsets, produce, readAll, startKafka, type KafkaCluster } from '../../../test/support/kafka.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ContainerFixture, TEST_LABEL, type Deployed } from './support/fixtures.js';

/**
 * The Kafka source's protocol behaviour (STREAMS.md §15) against a Kafka-protocol broker: librdkafka's mock cluster
 * (test/support/kafka.ts), or the cluster in KAFKA_BROKERS. In-process servers, a real function container that prints
 * one BATCH line per call with the offsets it processed. Semantic edge cases (bisect, partial, throttling) are the
 * embedded engine's tests; here: consuming through the group, commits, dead letters to a topic, two servers in a group.
 */
const CONSUMER = `
import { handle } from '@fnts/fdk';

handle(async (input: any, ctx) => {
  if (!input || !input.batch) return { idle: true };
  const { batch, records, source, trigger } = input;
  // A poison record fails, except when it comes back from the dead-letter topic (redrive).
  const failures = records.filter((r: any) => r.key === 'poison' && !r.headers['fnts.dlq.offset'])
    .map((r: any) => ({ offset: r.offset, error: 'poison ' + r.offset }));
  const lowest = failures.length > 0 ? failures[0].offset : Infinity;
  const slow = Number(ctx.config.SLOW_MS ?? 0);
  if (slow > 0) await new Promise((r) => setTimeout(r, slow));
  console.log('BATCH ' + JSON.stringify({
    trigger: trigger.name, type: source.type, stream: source.stream, p: source.partition, first: batch.firstOffset,
    last: batch.lastOffset, attempt: batch.attempt, done: records.filter((r: any) => r.offset < lowest).map((r: any) => r.offset),
    values: records.filter((r: any) => r.offset < lowest).map((r: any) => r.value),
  }));
  return { failures };
});
`;

interface BatchLine {
  trigger: string;
  type: string;
  stream: string;
  p: number;
  first: number;
  last: number;
  attempt: number;
  done: number[];
  values: string[];
}
/** What a Kafka source adds to a stream trigger's status. */
type TriggerStatus = ApiTriggerStatus & {
  source: { group_id: string; assigned: number[]; connected: boolean; last_error: string | null };
};
interface LogLine {
  level: number;
  msg: string;
  user_log?: boolean;
  partition?: number;
  partitions?: number[];
  offset?: number;
}
interface Server {
  app: FastifyInstance;
  /** Everything the server logged (debug and up), parsed. */
  lines: LogLine[];
}

const fx = new ContainerFixture();
let kafka: KafkaCluster;
let image: string;
const servers: FastifyInstance[] = [];
/** Topic names: plain on the throwaway mock, unique per run on a real cluster. */
const topicName = (name: string) => (process.env.KAFKA_BROKERS ? `fnts-${name}-${fx.run}` : name);

beforeAll(async () => {
  await fx.setup();
  [kafka, image] = await Promise.all([
    startKafka({
      [topicName('orders')]: 3, [topicName('orders.dlq')]: 1,
      [topicName('poison')]: 1, [topicName('poison.dlq')]: 1,
      [topicName('shared')]: 4, [topicName('shared.dlq')]: 1,
      [topicName('pressure')]: 1, [topicName('pressure.dlq')]: 1,
    }),
    fx.image('kafka-consumer', CONSUMER),
  ]);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
  await fx.teardown();
  await kafka?.stop();
});

/** An in-process server with its own SQLite file (so its own server id), logging into `lines`. */
async function server(name: string, env: Record<string, string> = {}): Promise<Server> {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, {
    write: (chunk: string) => {
      for (const l of chunk.split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
    },
  });
  const app = await buildApp({
    config: loadConfig({
      FNTS_DB: join(fx.work, `${name}.db`),
      FNTS_LOG_LEVEL: 'debug',
      FNTS_CONTAINER_LABELS: `${TEST_LABEL}=${fx.run}`,
      FNTS_IOFS_DIR: join(fx.work, 'iofs'),
      // A short session: a stopped static member's partitions move after it (plus the broker's rebalance delay).
      // A real broker refuses less than its group.min.session.timeout.ms (6 s by default).
      FNTS_KAFKA_SESSION_TIMEOUT_MS: kafka.mock ? '3000' : '6000',
      ...env,
    }),
    logger,
  });
  await app.ready();
  servers.push(app);
  return { app, lines };
}

async function call<T>(srv: FastifyInstance, method: InjectOptions['method'], url: string, body?: unknown): Promise<T> {
  const res = await srv.inject({ method, url, ...(body !== undefined ? { payload: body as InjectOptions['payload'] } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(200);
  return res.json<T>();
}

async function waitFor<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last, null, 1).slice(0, 3000)}`);
    await sleep(100);
    last = await probe();
  }
  return last;
}

const batches = (s: Server, trigger?: string): BatchLine[] => s.lines
  .filter((l) => l.user_log && l.msg.startsWith('BATCH '))
  .map((l) => JSON.parse(l.msg.slice(6)) as BatchLine)
  .filter((b) => trigger === undefined || b.trigger === trigger);
const status = (s: Server, id: string) => call<TriggerStatus>(s.app, 'GET', `/v2/triggers/${id}/status`);
const deploy = (s: Server, extra: Record<string, unknown> = {}) => fx.deploy(s.app, { image, max_containers: 1, idle_timeout: 60, ...extra });
const createTrigger = (s: Server, d: Deployed, name: string, source: string, options: Record<string, unknown>) =>
  call<{ id: string; options: Record<string, unknown> }>(s.app, 'POST', '/v2/triggers', {
    name, app_id: d.appId, fn_id: d.fnId, type: 'stream', source, options: { value_encoding: 'utf8', backoff_initial_ms: 10, ...options },
  });
const span = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
/** Offsets processed per partition, in call order. */
function donePerPartition(bs: BatchLine[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const b of bs) out.set(b.p, [...(out.get(b.p) ?? []), ...b.done]);
  return out;
}

describe('Kafka trigger sources', () => {
  it('reject a malformed kafka:// source or an embedded-only option with the expected form', async () => {
    const s = await server('validate');
    const d = await deploy(s);
    const post = (source: string, options: Record<string, unknown> = {}) => s.app.inject({
      method: 'POST', url: '/v2/triggers', payload: { name: 'k', app_id: d.appId, fn_id: d.fnId, type: 'stream', source, options },
    });
    for (const [source, problem] of [
      ['kafka://', 'at least one broker'],
      ['kafka://broker/orders', 'needs a port'],
      ['kafka://broker:99999/orders', 'invalid port'],
      ['kafka://broker:9092', 'topic is missing'],
      ['kafka://broker:9092/', 'topic is missing'],
      ['kafka://broker:9092/a/b', 'only path segment'],
      ['kafka://broker:9092/bad topic', 'not a valid Kafka topic name'],
      ['kafka://user:pw@broker:9092/t', 'credentials'],
    ] as const) {
      const res = await post(source);
      expect(res.statusCode, source).toBe(400);
      expect(res.json<{ message: string }>().message).toContain(problem);
      expect(res.json<{ message: string }>().message).toContain('expected kafka://host1:9092,host2:9092/topic');
    }
    const src = `kafka://${kafka.brokers}/${topicName('orders')}`;
    const bad = await post(src, { dead_letter_stream: 'x', group_id: 'has space', drain_timeout_ms: -1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ message: string }>().message).toMatch(/dead_letter_topic.*group_id.*drain_timeout_ms/);
    if (!kafka.mock) {
      // (The mock broker creates any topic a metadata request names, so this needs a real one.)
      const missing = await post(`kafka://${kafka.brokers}/${topicName('no-such-topic')}`);
      expect(missing.statusCode, missing.body).toBe(400);
      expect(missing.json<{ message: string }>().message).toContain('does not exist');
    }
    // Nothing half-made stays behind.
    const list = await call<{ items: unknown[] }>(s.app, 'GET', `/v2/triggers?app_id=${d.appId}`);
    expect(list.items).toHaveLength(0);
  });

  it('consume every record once and in order per partition, committing the group offsets; latest skips nothing written after creation', async () => {
    const s = await server('orders');
    const topic = topicName('orders');
    const produced = await produce(kafka.brokers, topic, span(0, 60).map((i) => ({ key: `k${i % 7}`, value: `v${i}` })));
    const perPartition = new Map<number, number>();
    for (const r of produced) perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1);
    expect(perPartition.size).toBeGreaterThan(1);

    const [d, d2] = await Promise.all([deploy(s), deploy(s)]);
    const source = `kafka://${kafka.brokers}/${topic}`;
    const t = await createTrigger(s, d, 'orders', source, { start_position: 'earliest', batch_size: 10 });
    expect(t.options).toMatchObject({ group_id: `fnts-${t.id}`, dead_letter_topic: `${topic}.dlq`, dead_letter_stream: `${topic}.dlq`, batch_size: 10 });
    // Created while the first trigger runs, from `latest` (the default): sees exactly what is produced after its creation.
    await createTrigger(s, d2, 'late', source, { batch_size: 10 });
    const more = await produce(kafka.brokers, topic, span(60, 66).map((i) => ({ key: `k${i % 7}`, value: `v${i}` })));
    for (const r of more) perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1);

    const st = await waitFor('every partition committed', () => status(s, t.id), (x) =>
      x.partitions.length === 3 && x.partitions.every((p) => p.committed === perPartition.get(p.partition) && p.lag_records === 0));
    expect(st.source).toMatchObject({ type: 'kafka', group_id: `fnts-${t.id}`, assigned: [0, 1, 2], connected: true, last_error: null });
    expect(st.partitions.every((p) => p.state.kind === 'IDLE' || p.state.kind === 'RUNNING')).toBe(true);

    const bs = await waitFor('batch lines', () => batches(s, 'orders'), (b) => b.flatMap((x) => x.done).length >= 66);
    expect(bs.every((b) => b.type === 'kafka' && b.stream === topic && b.attempt === 1 && b.done.length <= 10)).toBe(true);
    // Once each, in offset order per partition; the values are what was produced there.
    for (const [p, offsets] of donePerPartition(bs)) expect(offsets, `partition ${p}`).toEqual(span(0, perPartition.get(p) ?? 0));
    const valueAt = new Map([...produced, ...more].map((r, i) => [`${r.partition}/${r.offset}`, `v${i}`]));
    for (const b of bs) b.done.forEach((o, i) => expect(b.values[i]).toBe(valueAt.get(`${b.p}/${o}`)));

    // The group's offsets in Kafka say the same.
    const g = await groupOffsets(kafka.brokers, `fnts-${t.id}`, topic);
    expect(Object.fromEntries(g.committed)).toEqual(Object.fromEntries(g.end));

    const lateDone = await waitFor('the late trigger', () => batches(s, 'late'), (b) => b.flatMap((x) => x.done).length >= more.length);
    const got = lateDone.flatMap((b) => b.done.map((o) => `${b.p}/${o}`)).sort();
    expect(got).toEqual(more.map((r) => `${r.partition}/${r.offset}`).sort());

    // Control: pause, seek partition 0 back to offset 2, resume: the client is moved and partition 0 replays from there.
    await call(s.app, 'POST', `/v2/triggers/${t.id}/pause`);
    const before = batches(s, 'orders').length;
    const sought = await call<TriggerStatus>(s.app, 'POST', `/v2/triggers/${t.id}/seek`, { position: { offsets: { 0: 2 } }, partition: 0 });
    expect(sought.partitions.find((p) => p.partition === 0)).toMatchObject({ committed: 2, lag_records: (perPartition.get(0) ?? 0) - 2 });
    await call(s.app, 'POST', `/v2/triggers/${t.id}/resume`);
    const replay = await waitFor('partition 0 to replay', () => batches(s, 'orders').slice(before), (b) => b.flatMap((x) => x.done).length >= (perPartition.get(0) ?? 0) - 2);
    expect(replay.every((b) => b.p === 0)).toBe(true);
    expect(replay.flatMap((b) => b.done)).toEqual(span(2, perPartition.get(0) ?? 0));
    await waitFor('partition 0 committed again', () => status(s, t.id), (x) => x.partitions[0]?.committed === perPartition.get(0));
  });

  it('pauses fetching a partition while its buffer is full and resumes as the engine drains it, losing and repeating nothing', async () => {
    const s = await server('pressure');
    const topic = topicName('pressure');
    const pad = 'x'.repeat(200);
    await produce(kafka.brokers, topic, span(0, 150).map((i) => ({ value: `${i}:${pad}` })));
    const d = await deploy(s);
    const t = await createTrigger(s, d, 'pressure', `kafka://${kafka.brokers}/${topic}`, { start_position: 'earliest', batch_size: 5, max_buffered_bytes: 1024 });
    await waitFor('everything committed', () => status(s, t.id), (x) => x.partitions[0]?.committed === 150);
    const bs = await waitFor('batch lines', () => batches(s, 'pressure'), (b) => b.flatMap((x) => x.done).length >= 150);
    expect(bs.flatMap((b) => b.done)).toEqual(span(0, 150));
    expect(bs.flatMap((b) => b.values).map((v) => Number(v.split(':')[0]))).toEqual(span(0, 150));
    expect(s.lines.filter((l) => l.msg === 'kafka fetching paused: buffer full').length).toBeGreaterThan(1);
    expect(s.lines.filter((l) => l.msg === 'kafka fetching resumed').length).toBeGreaterThan(1);
  });

  it('dead-letters a poison record to the Kafka dead-letter topic with its bytes and headers, then moves on', async () => {
    const s = await server('poison');
    const topic = topicName('poison');
    const bytes = Buffer.from([0, 0xff, 0xfe, 0x80, 0x41]);
    await produce(kafka.brokers, topic, [
      { value: 'r0' }, { value: 'r1' },
      { key: 'poison', value: bytes, headers: { origin: 'test', binary: Buffer.from([0xff, 0x00]) } },
      { value: 'r3' }, { value: 'r4' },
    ]);
    const d = await deploy(s);
    const t = await createTrigger(s, d, 'poison', `kafka://${kafka.brokers}/${topic}`, { start_position: 'earliest', batch_size: 10, max_attempts: 1 });
    const st = await waitFor('the partition to settle', () => status(s, t.id), (x) => x.partitions[0]?.committed === 5 && x.partitions[0].dead_lettered === 1);
    expect(st.dead_letter_stream).toBe(`${topic}.dlq`);
    const bs = batches(s, 'poison');
    expect(bs.flatMap((b) => b.done)).toEqual([0, 1, 3, 4]);

    const letters = await waitFor('the dead letter', () => readAll(kafka.brokers, `${topic}.dlq`), (l) => l.length >= 1);
    expect(letters).toHaveLength(1);
    const letter = letters[0] as (typeof letters)[number];
    expect(letter.key?.toString()).toBe('poison');
    expect(letter.value).toEqual(bytes);
    expect(letter.headers.origin?.toString()).toBe('test');
    expect(letter.headers.binary).toEqual(Buffer.from([0xff, 0x00]));
    const h = Object.fromEntries(Object.entries(letter.headers).filter(([k]) => k.startsWith('fnts.dlq.')).map(([k, v]) => [k, v.toString()]));
    expect(h).toMatchObject({
      'fnts.dlq.stream': topic, 'fnts.dlq.source-type': 'kafka', 'fnts.dlq.partition': '0', 'fnts.dlq.offset': '2',
      'fnts.dlq.trigger-id': t.id, 'fnts.dlq.trigger': 'poison', 'fnts.dlq.fn-id': d.fnId, 'fnts.dlq.fn-image': image,
      'fnts.dlq.attempts': '1', 'fnts.dlq.error': 'poison 2', 'fnts.dlq.status': '200',
    });
    expect(Number(h['fnts.dlq.timestamp'])).toBeGreaterThan(0);

    expect(h['fnts.dlq.group-id']).toBe(`fnts-${t.id}`);

    // Redrive reads the group's letters back from the topic: the record goes to the function again, once.
    expect(await call(s.app, 'POST', `/v2/triggers/${t.id}/redrive`)).toEqual({ redriven: 1, remaining: 0 });
    const again = await waitFor('the redriven record', () => batches(s, 'poison'), (b) => b.length > bs.length);
    expect(again.slice(bs.length)).toMatchObject([{ p: 0, first: 2, last: 2, attempt: 2, done: [2] }]);
    expect(await call(s.app, 'POST', `/v2/triggers/${t.id}/redrive`)).toEqual({ redriven: 0, remaining: 0 });
  });

  it('splits partitions between two servers of one group: a revoke drains and commits, a stop fences, duplicates stay within the batch in flight', async () => {
    const topic = topicName('shared');
    const group = `fnts-shared-${fx.run}`;
    const source = `kafka://${kafka.brokers}/${topic}`;
    const options = { group_id: group, start_position: 'earliest', batch_size: 5, drain_timeout_ms: 5000, max_concurrency: 4 };
    const a = await server('a');
    const b = await server('b');
    const [da, db] = await Promise.all([
      deploy(a, { max_containers: 2, config: { SLOW_MS: '500' } }),
      deploy(b, { max_containers: 2, config: { SLOW_MS: '500' } }),
    ]);
    const ta = await createTrigger(a, da, 'shared', source, options);
    await waitFor('server A to own every partition', () => status(a, ta.id), (x) => x.source.assigned.length === 4);
    // 30 records per partition: 6 batches of 5 (the first delivery may be smaller), 500 ms each.
    const produced = await produce(kafka.brokers, topic, span(0, 120).map((i) => ({ partition: i % 4, value: `s${i}` })));
    await waitFor('server A to be busy', () => batches(a).length, (n) => n >= 2);

    // B joins: A gives up two partitions with batches in flight; they finish and commit within the drain timeout.
    const tb = await createTrigger(b, db, 'shared', source, options);
    expect(tb.options).toMatchObject({ group_id: group });
    const [sa, sb] = await waitFor('the partitions to split', async () => [await status(a, ta.id), await status(b, tb.id)],
      ([x, y]) => x.source.assigned.length > 0 && y.source.assigned.length > 0 && x.source.assigned.length + y.source.assigned.length === 4, 30_000);
    const ownedByA = sa.source.assigned;
    const movedToB = sb.source.assigned;
    expect([...ownedByA, ...movedToB].sort()).toEqual([0, 1, 2, 3]);
    const revokeLine = a.lines.find((l) => l.msg === 'partitions revoked: drained, committed and fenced') as LogLine & { fenced_in_flight: number[] };
    expect(revokeLine).toMatchObject({ partitions: expect.arrayContaining(movedToB) as unknown, fenced_in_flight: [] });

    // Then A stops with a drain timeout shorter than a batch: what it has in flight is fenced, B redelivers it.
    await waitFor('server B to be busy', () => batches(b).length, (n) => n >= 1);
    await call(a.app, 'PUT', `/v2/triggers/${ta.id}`, { options: { drain_timeout_ms: 100 } });
    await a.app.close();

    const final = await waitFor('server B to take over and finish', () => status(b, tb.id),
      (x) => x.source.assigned.length === 4 && x.partitions.every((p) => p.end === 30 && p.committed === 30), 45_000);
    expect(final.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);

    // Everything processed. Duplicates come only from batches A had in flight when it stopped: at most one batch per
    // partition A owned then, none from the drained handover.
    const seen = new Map<string, number>();
    for (const bl of [...batches(a), ...batches(b)]) for (const o of bl.done) seen.set(`${bl.p}/${o}`, (seen.get(`${bl.p}/${o}`) ?? 0) + 1);
    expect([...seen.keys()].sort()).toEqual(produced.map((r) => `${r.partition}/${r.offset}`).sort());
    const dupes = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
    const stopLine = a.lines.filter((l) => l.msg === 'partitions revoked: drained, committed and fenced').at(-1) as LogLine & { fenced_in_flight: number[] };
    expect(stopLine.partitions?.sort()).toEqual([...ownedByA].sort());
    expect(dupes.length).toBeLessThanOrEqual(options.batch_size * stopLine.fenced_in_flight.length);
    for (const k of dupes) expect(stopLine.fenced_in_flight).toContain(Number(k.split('/')[0]));
    // In order on B: on every partition, B's offsets only go up (it starts each taken-over partition at A's last commit).
    for (const [p, offsets] of donePerPartition(batches(b))) {
      expect(offsets, `partition ${p} on B`).toEqual([...offsets].sort((x, y) => x - y));
    }

    // A committed only while it owned a partition: between its assignment and its release (at the rebalance that gave
    // B its share, and at shutdown), never after.
    const owned = new Set<number>();
    const commitsWhileNotOwned: LogLine[] = [];
    let commits = 0;
    for (const l of a.lines) {
      if (l.msg === 'kafka partitions assigned') for (const p of l.partitions ?? []) owned.add(p);
      if (l.msg === 'kafka partitions released') for (const p of l.partitions ?? []) owned.delete(p);
      if (l.msg === 'kafka offset committed') {
        commits++;
        if (!owned.has(l.partition ?? -1)) commitsWhileNotOwned.push(l);
      }
    }
    expect(commits).toBeGreaterThan(0);
    expect(commitsWhileNotOwned).toEqual([]);
    expect(owned.size).toBe(0);
    expect(a.lines.some((l) => l.msg === 'kafka partitions handed back for shutdown: draining')).toBe(true);
    expect(a.lines.filter((l) => l.msg.includes('no longer owns'))).toEqual([]);
    // B was given A's partitions when A stopped.
    const assignedToB = b.lines.filter((l) => l.msg === 'kafka partitions assigned').flatMap((l) => l.partitions ?? []);
    expect([...assignedToB].sort()).toEqual([0, 1, 2, 3]);

    const g = await groupOffsets(kafka.brokers, group, topic);
    expect(Object.fromEntries(g.committed)).toEqual({ 0: 30, 1: 30, 2: 30, 3: 30 });
  });
});
