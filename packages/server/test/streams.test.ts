import type { StreamMessage, TriggerStatus } from '@fnts/api';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerFixture, type Deployed } from './support/fixtures.js';

/**
 * The stream-trigger engine on real containers (STREAMS.md "Acceptance scenarios"): an in-process server, a real
 * function that reports what it did one log line per batch call, and the control API.
 */

/**
 * One function for every scenario. A plain invoke `{hold: ms}` holds the container. A batch call prints
 * `BEGIN {...}` and then `BATCH {...}` with the offsets it processed (`done`: those before the lowest failure),
 * and answers per record:
 * - key "poison" → a partial failure at that record (while config POISON is not "off");
 * - key "throw" → throws: the whole batch fails with 502 (while config POISON is not "off");
 * - value "fail-first…" → a partial failure on attempt 1 only; value "…slow" → the call takes 1.5 s (unless it fails);
 * - value "bad-shape" → `{"failures": "nope"}`; value "bad-out" → a failure offset outside the batch.
 */
const CONSUMER = `
import { handle } from '@fnts/fdk';

interface Rec { offset: number; timestamp: number; key: string | null; value: string; headers: Record<string, string> }
interface BatchEvent {
  source: { type: string; stream: string; partition: number };
  batch: { id: string; attempt: number; firstOffset: number; lastOffset: number };
  trigger: { id: string; name: string };
  encoding: string;
  records: Rec[];
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

handle(async (input: any, ctx) => {
  if (!input || !input.batch) {
    console.log('HOLD start');
    await pause(Number(input?.hold ?? 0));
    console.log('HOLD end');
    return { held: true };
  }
  const ev = input as BatchEvent;
  const { batch, records } = ev;
  const info = {
    p: ev.source.partition, stream: ev.source.stream, type: ev.source.type, trigger: ev.trigger.name, encoding: ev.encoding,
    first: batch.firstOffset, last: batch.lastOffset, id: batch.id, attempt: batch.attempt, n: records.length,
    contig: records.length > 0 && records.every((r, i) => r.offset === batch.firstOffset + i) && records[records.length - 1].offset === batch.lastOffset,
    hdr: ctx.getHeader('Fnts-Batch-Id') === batch.id && ctx.getHeader('Fnts-Attempt') === String(batch.attempt)
      && ctx.getHeader('Fnts-Partition') === String(ev.source.partition) && ctx.getHeader('Fnts-Stream') === ev.source.stream
      && ctx.getHeader('Fnts-First-Offset') === String(batch.firstOffset) && ctx.getHeader('Fnts-Last-Offset') === String(batch.lastOffset),
    dlq: records.map((r) => r.headers['fnts.dlq.offset'] ?? null).filter((x) => x !== null),
  };
  console.log('BEGIN ' + JSON.stringify(info));
  const report = (kind: string, done: number[], failed: number[] = []) =>
    console.log('BATCH ' + JSON.stringify({ ...info, kind, done, failed }));
  const poisonOn = ctx.config.POISON !== 'off';
  const failed: number[] = [];
  let slow = false;
  for (const r of records) {
    if (r.value === 'bad-shape') { report('malformed', []); return { failures: 'nope' }; }
    if (r.value === 'bad-out') { report('malformed', []); return { failures: [{ offset: batch.lastOffset + 100, error: 'out' }] }; }
    if (poisonOn && r.key === 'throw') { report('throw', []); throw new Error('cannot take record ' + r.offset); }
    if ((poisonOn && r.key === 'poison') || (r.value.startsWith('fail-first') && batch.attempt === 1)) failed.push(r.offset);
    else if (r.value.endsWith('slow')) slow = true;
  }
  if (failed.length > 0) {
    const lowest = Math.min(...failed);
    report('partial', records.filter((r) => r.offset < lowest).map((r) => r.offset), failed);
    return { failures: failed.map((offset) => ({ offset, error: 'record ' + offset + ' failed' })) };
  }
  if (slow) await pause(1500);
  report('ok', records.map((r) => r.offset));
  return { failures: [] };
});
`;

interface BatchLine {
  p: number;
  stream: string;
  type: string;
  trigger: string;
  encoding: string;
  first: number;
  last: number;
  id: string;
  attempt: number;
  n: number;
  contig: boolean;
  hdr: boolean;
  dlq: string[];
  kind: 'ok' | 'partial' | 'malformed' | 'throw';
  done: number[];
  failed: number[];
}
type Message = StreamMessage;

const fx = new ContainerFixture();
let image: string;
let server: FastifyInstance;

beforeAll(async () => {
  await fx.setup();
  image = await fx.image('consumer', CONSUMER);
  server = await fx.server({ FNTS_RETENTION_CHECK_MS: '200' });
});
afterAll(() => fx.teardown());

/** A 200 JSON answer from `srv`, or the test fails with the body. */
async function call<T>(srv: FastifyInstance, method: InjectOptions['method'], url: string, body?: unknown): Promise<T> {
  const res = await srv.inject({ method, url, ...(body !== undefined ? { payload: body as InjectOptions['payload'] } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(200);
  return res.json<T>();
}

/** Polls `probe` every 50 ms until `ok` holds (at most `timeoutMs`); fails with the last value otherwise. */
async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last, null, 1).slice(0, 4000)}`);
    await sleep(50);
    last = await probe();
  }
  return last;
}

/** The function's BATCH lines, oldest first. */
async function batches(srv: FastifyInstance, fnId: string): Promise<BatchLine[]> {
  return (await lines(srv, fnId)).filter((l) => l.startsWith('BATCH ')).map((l) => JSON.parse(l.slice(6)) as BatchLine);
}
async function lines(srv: FastifyInstance, fnId: string): Promise<string[]> {
  const res = await srv.inject({ method: 'GET', url: `/v2/fns/${fnId}/logs?tail=1000` });
  expect(res.statusCode, res.body).toBe(200);
  return res.body.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { line: string }).line);
}
/** Waits until the function has reported `count` BATCH lines (output reaches the log a moment after the call). */
const waitBatches = (srv: FastifyInstance, fnId: string, ok: (b: BatchLine[]) => boolean, what = 'batch lines') =>
  waitFor(what, () => batches(srv, fnId), ok);
const allDone = (bs: BatchLine[]) => bs.flatMap((b) => b.done);
const ranges = (bs: BatchLine[]) => bs.map((b) => ({ first: b.first, last: b.last, attempt: b.attempt, kind: b.kind }));
const span = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const status = (srv: FastifyInstance, triggerId: string) => call<TriggerStatus>(srv, 'GET', `/v2/triggers/${triggerId}/status`);
/** Waits until every partition has committed everything and nothing is in flight. */
const settled = (srv: FastifyInstance, triggerId: string, timeoutMs = 30_000) =>
  waitFor(`trigger ${triggerId} to settle`, () => status(srv, triggerId), (s) =>
    s.partitions.every((p) => p.lag_records === 0 && p.in_flight === null && (p.state.kind === 'IDLE' || p.state.kind === 'PAUSED')), timeoutMs);

async function createStream(srv: FastifyInstance, name: string, body: Record<string, unknown> = {}): Promise<void> {
  await call(srv, 'POST', '/v2/streams', { name, ...body });
}
async function append(srv: FastifyInstance, stream: string, messages: unknown[], encoding = 'utf8'): Promise<{ partition: number; offset: number }[]> {
  return (await call<{ offsets: { partition: number; offset: number }[] }>(srv, 'POST', `/v2/streams/${stream}/messages`, { encoding, messages })).offsets;
}
async function readMessages(srv: FastifyInstance, stream: string, query = ''): Promise<{ messages: Message[]; next_offset: number; end_offset: number }> {
  return call(srv, 'GET', `/v2/streams/${stream}/messages?${/limit=/.test(query) ? '' : 'limit=1000&'}${query}`);
}
async function createTrigger(srv: FastifyInstance, d: Deployed, name: string, source: string, options: Record<string, unknown>) {
  return call<{ id: string; name: string; options: Record<string, unknown> }>(srv, 'POST', '/v2/triggers', {
    name, app_id: d.appId, fn_id: d.fnId, type: 'stream', source, options: { value_encoding: 'utf8', ...options },
  });
}
/** The value of one Prometheus series of a trigger (the first line naming the metric, the trigger and `match`). */
async function metric(srv: FastifyInstance, name: string, triggerId: string, match: string): Promise<number | undefined> {
  const res = await srv.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  const line = res.body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`trigger_id="${triggerId}"`) && l.includes(match));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
const deploy = (srv: FastifyInstance, extra: Record<string, unknown> = {}) =>
  fx.deploy(srv, { image, max_containers: 1, idle_timeout: 20, ...extra });

/**
 * A witness for "nothing was sent": a running trigger of another function on the same stream. Once it has delivered
 * a record, the engine had that record and the time to act on it, so a trigger that still has not sent it held it back.
 */
async function startWitness(srv: FastifyInstance, stream: string, options: Record<string, unknown>): Promise<{ delivered(offset: number): Promise<void> }> {
  const w = await deploy(srv);
  await createTrigger(srv, w, 'witness', stream, options);
  return {
    delivered: async (offset) => {
      await waitBatches(srv, w.fnId, (b) => allDone(b).includes(offset), `the witness to deliver offset ${offset}`);
    },
  };
}

describe('filtering', () => {
  it('sends only records that match the filter; the others are committed and counted, never sent', async () => {
    const d = await deploy(server);
    await createStream(server, 'filtered');
    await append(server, 'filtered', [
      { key: 'eu-1', value: '{"kind":"skip"}' },
      { key: 'eu-2', value: '{"kind":"order","n":1}' },
      { key: 'us-1', value: '{"kind":"order","n":2}' },
      { key: 'eu-3', value: 'not json' },
      { key: 'eu-4', value: '{"kind":"order","n":3}', headers: { region: 'eu' } },
      { key: 'eu-5', value: '{"kind":"skip"}' },
    ]);
    const trigger = await createTrigger(server, d, 'consume', 'filtered', {
      start_position: 'earliest', filter: { key_prefix: 'eu-', value: { kind: 'order' } },
    });
    expect(trigger.options.filter).toEqual({ key_prefix: 'eu-', value: { kind: 'order' } });
    const st = await settled(server, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 6, lag_records: 0, dead_lettered: 0 });
    // Output reaches the log a moment after the call: wait for the two sent records' lines, then check there are no others.
    const sent = allDone(await waitBatches(server, d.fnId, (bs) => allDone(bs).length >= 2));
    expect(sent).toEqual([1, 4]);
    expect(await metric(server, 'fnts_stream_records_total', trigger.id, 'outcome="filtered"')).toBe(4);

    const bad = await server.inject({
      method: 'POST', url: '/v2/triggers',
      payload: { name: 'bad', app_id: d.appId, fn_id: d.fnId, type: 'stream', source: 'filtered', options: { filter: { tag: 'x' } } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ message: string }>().message).toMatch(/options\.filter\.tag is not a filter condition/);
  });
});

describe('poison records', () => {
  it('dead-letters exactly the poison record among 1,000: the other 999 are processed once, in order', async () => {
    const d = await deploy(server);
    await createStream(server, 'poison-1000');
    const poisonAt = 537;
    const poisonBytes = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x80]), randomBytes(60)]);
    const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
    const offsets = await append(server, 'poison-1000', Array.from({ length: 1000 }, (_, i) => (i === poisonAt
      ? { key: b64('poison'), value: poisonBytes.toString('base64'), headers: { origin: 'acceptance', 'trace-id': 't-537' } }
      : { value: b64(`v${i}`) })), 'base64');
    expect(offsets.map((o) => o.offset)).toEqual(span(0, 999));
    const trigger = await createTrigger(server, d, 'consume', 'poison-1000', {
      batch_size: 100, max_attempts: 2, backoff_initial_ms: 10, start_position: 'earliest',
    });
    const dlq = `${d.appName}.fn.consume.dlq`;
    expect(trigger.options).toMatchObject({ dead_letter_stream: dlq, batch_size: 100, max_attempts: 2, bisect_on_error: true });

    const st = await settled(server, trigger.id);
    expect(st).toMatchObject({ paused: false, dead_letter_stream: dlq });
    expect(st.partitions).toMatchObject([{ partition: 0, committed: 1000, start: 0, end: 1000, lag_records: 0, dead_lettered: 1 }]);

    const bs = await waitBatches(server, d.fnId, (b) => allDone(b).length >= 999 && b.some((x) => x.first === poisonAt && x.attempt === 2));
    // Exactly once and in order: the processed offsets, in call order, are 0..999 without the poison.
    expect(allDone(bs)).toEqual(span(0, 999).filter((o) => o !== poisonAt));
    expect(bs.every((b) => b.contig && b.hdr && b.p === 0 && b.type === 'embedded' && b.stream === 'poison-1000' && b.encoding === 'utf8')).toBe(true);
    expect(bs.every((b) => b.trigger === 'consume')).toBe(true);
    // The batch holding the poison failed partially; then the poison alone was retried once and dead-lettered.
    expect(ranges(bs).filter((r) => r.kind !== 'ok')).toEqual([
      { first: 500, last: 599, attempt: 1, kind: 'partial' },
      { first: poisonAt, last: poisonAt, attempt: 2, kind: 'partial' },
    ]);
    expect(ranges(bs).filter((r) => r.kind === 'ok').every((r) => r.attempt === 1)).toBe(true);

    // The dead-letter stream holds exactly that record: its bytes, key, headers, and where it came from.
    const original = (await readMessages(server, 'poison-1000', `offset=${poisonAt}&limit=1&encoding=base64`)).messages[0] as Message;
    const letters = await readMessages(server, dlq, 'encoding=base64');
    expect(letters.messages).toHaveLength(1);
    const letter = letters.messages[0] as Message;
    expect(Buffer.from(letter.value, 'base64')).toEqual(poisonBytes);
    expect(letter.key).toBe(b64('poison'));
    expect(letter.headers).toMatchObject({
      origin: 'acceptance', 'trace-id': 't-537',
      'fnts.dlq.stream': 'poison-1000', 'fnts.dlq.source-type': 'embedded', 'fnts.dlq.partition': '0',
      'fnts.dlq.offset': String(poisonAt), 'fnts.dlq.timestamp': String(original.timestamp),
      'fnts.dlq.trigger-id': trigger.id, 'fnts.dlq.trigger': 'consume', 'fnts.dlq.fn-id': d.fnId, 'fnts.dlq.fn-image': image,
      'fnts.dlq.attempts': '2', 'fnts.dlq.error': `record ${poisonAt} failed`, 'fnts.dlq.status': '200',
    });
    // The source stream still has the record: dead-lettering copies, it does not cut the log.
    expect(Buffer.from(original.value, 'base64')).toEqual(poisonBytes);
    // Metrics count the records by outcome for this trigger.
    expect(await metric(server, 'fnts_stream_records_total', trigger.id, 'outcome="ok"')).toBe(999);
    expect(await metric(server, 'fnts_stream_records_total', trigger.id, 'outcome="dead_lettered"')).toBe(1);
    expect(await metric(server, 'fnts_stream_lag_records', trigger.id, 'partition="0"')).toBe(0);
    // ...named by the function's app and name as well as its id.
    expect(await metric(server, 'fnts_stream_records_total', trigger.id, `fn_id="${d.fnId}",app_name="${d.appName}",fn_name="fn",trigger_id="${trigger.id}",outcome="ok"`)).toBe(999);
  });
});

describe('partial batch responses', () => {
  it('commits just before the lowest reported failure and redelivers from there, counting the failure as an attempt', async () => {
    const d = await deploy(server);
    await createStream(server, 'partial');
    const values = span(0, 9).map((i) => (i === 6 ? 'fail-first-slow' : i === 8 ? 'fail-first' : `r${i}`));
    await append(server, 'partial', values.map((value) => ({ value })));
    const trigger = await createTrigger(server, d, 'consume', 'partial', {
      batch_size: 10, max_attempts: 3, backoff_initial_ms: 10, start_position: 'earliest',
    });
    // While the retry of offset 6 runs (it takes 1.5 s), the committed offset is 6: 0..5 are done, 6..9 are not.
    const during = await waitFor('the retry of offset 6 in flight', () => status(server, trigger.id), (s) => s.partitions[0]?.in_flight?.first === 6);
    expect(during.partitions[0]).toMatchObject({ committed: 6, lag_records: 4, in_flight: { first: 6, last: 6, attempt: 2 }, state: { kind: 'RUNNING' } });

    const st = await settled(server, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 10, dead_lettered: 0 });
    const bs = await waitBatches(server, d.fnId, (b) => b.some((x) => x.first === 9));
    expect(bs.map((b) => ({ first: b.first, last: b.last, attempt: b.attempt, kind: b.kind, done: b.done, failed: b.failed }))).toEqual([
      { first: 0, last: 9, attempt: 1, kind: 'partial', done: [0, 1, 2, 3, 4, 5], failed: [6, 8] },
      { first: 6, last: 6, attempt: 2, kind: 'ok', done: [6], failed: [] },
      { first: 7, last: 9, attempt: 1, kind: 'partial', done: [7], failed: [8] },
      { first: 8, last: 8, attempt: 2, kind: 'ok', done: [8], failed: [] },
      { first: 9, last: 9, attempt: 1, kind: 'ok', done: [9], failed: [] },
    ]);
    expect((await readMessages(server, `${d.appName}.fn.consume.dlq`)).messages).toEqual([]);
  });

  it('fails the whole batch on a malformed answer (bad shape, unknown offset): retried, then only the head is dead-lettered', async () => {
    const d = await deploy(server);
    await createStream(server, 'malformed');
    await append(server, 'malformed', ['a', 'bad-shape', 'b', 'c', 'bad-out', 'd'].map((value) => ({ value })));
    const trigger = await createTrigger(server, d, 'consume', 'malformed', {
      max_attempts: 2, backoff_initial_ms: 10, start_position: 'earliest',
    });
    const st = await settled(server, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 6, dead_lettered: 2 });
    const bs = await waitBatches(server, d.fnId, (b) => b.some((x) => x.first === 5));
    // Nothing of a malformed answer counts: offset 0 was in the first (malformed) call and was delivered again.
    expect(ranges(bs)[0]).toEqual({ first: 0, last: 5, attempt: 1, kind: 'malformed' });
    expect(bs.slice(1).some((b) => b.first === 0 && b.kind === 'ok')).toBe(true);
    expect(allDone(bs)).toEqual([0, 2, 3, 5]);
    // Each bad record was tried max_attempts times alone before it was dead-lettered.
    expect(ranges(bs).filter((r) => r.first === r.last && (r.first === 1 || r.first === 4))).toEqual([
      { first: 1, last: 1, attempt: 1, kind: 'malformed' },
      { first: 1, last: 1, attempt: 2, kind: 'malformed' },
      { first: 4, last: 4, attempt: 1, kind: 'malformed' },
      { first: 4, last: 4, attempt: 2, kind: 'malformed' },
    ]);
    const letters = (await readMessages(server, `${d.appName}.fn.consume.dlq`)).messages;
    expect(letters.map((m) => [m.value, m.headers['fnts.dlq.offset'], m.headers['fnts.dlq.attempts'], m.headers['fnts.dlq.status']])).toEqual([
      ['bad-shape', '1', '2', '200'],
      ['bad-out', '4', '2', '200'],
    ]);
    expect(letters[0]?.headers['fnts.dlq.error']).toMatch(/malformed.*"failures" must be a list/);
    expect(letters[1]?.headers['fnts.dlq.error']).toMatch(/malformed.*failure offset 104 is outside the batch 4\.\.4/);
  });
});

describe('throttling', () => {
  it('spends no attempt while the container pool is full: RETRYING (throttled), then delivered with attempt 1', async () => {
    const busy = await fx.server({ FNTS_MAX_QUEUE_PER_FN: '1', FNTS_QUEUE_TIMEOUT_MS: '300' });
    const d = await deploy(busy);
    await createStream(busy, 'throttle');
    // max_attempts 1: a single spent attempt would dead-letter at once.
    const trigger = await createTrigger(busy, d, 'consume', 'throttle', { max_attempts: 1, backoff_initial_ms: 10, start_position: 'earliest' });
    const held = fx.invoke(busy, d.fnId, { hold: 1500 });
    await waitFor('the only container to be held', () => lines(busy, d.fnId), (l) => l.includes('HOLD start'));
    await append(busy, 'throttle', ['x', 'y', 'z'].map((value) => ({ value })));
    const throttled = await waitFor('a throttled retry', () => status(busy, trigger.id), (s) => s.partitions[0]?.state.kind === 'RETRYING');
    expect(throttled.partitions[0]).toMatchObject({ committed: 0, dead_lettered: 0, state: { kind: 'RETRYING', throttled: true, attempt: 0 } });
    expect(throttled.partitions[0]?.state.lastError).toMatch(/busy/i);
    expect((await held).statusCode).toBe(200);

    const st = await settled(busy, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 3, dead_lettered: 0 });
    const bs = await waitBatches(busy, d.fnId, (b) => b.length > 0);
    expect(ranges(bs)).toEqual([{ first: 0, last: 2, attempt: 1, kind: 'ok' }]);
    expect((await readMessages(busy, `${d.appName}.fn.consume.dlq`)).end_offset).toBe(0);
  });
});

describe('batching', () => {
  it('cuts batches by max_batch_bytes, sends an oversized record alone, waits up to max_wait_ms to fill, and dead-letters records past max_record_age_ms', async () => {
    const d = await deploy(server);
    const forStream = (bs: BatchLine[], stream: string) => bs.filter((b) => b.stream === stream);

    // Bytes: 100 + 100 fit 250, a third does not; a 600-byte record goes alone.
    await createStream(server, 'bytes');
    await append(server, 'bytes', [100, 100, 100, 600, 100].map((n) => ({ value: 'x'.repeat(n) })));
    const bytes = await createTrigger(server, d, 'bytes', 'bytes', { max_batch_bytes: 250, start_position: 'earliest' });

    // Waiting: the first record waits for the next two, appended 300 ms later, and all three go together.
    await createStream(server, 'wait');
    const wait = await createTrigger(server, d, 'wait', 'wait', { batch_size: 3, max_wait_ms: 3000, start_position: 'earliest' });
    await append(server, 'wait', [{ value: 'w0' }]);
    await sleep(300);
    await append(server, 'wait', [{ value: 'w1' }, { value: 'w2' }]);

    // Age: records older than max_record_age_ms go to the dead-letter stream without a call.
    await createStream(server, 'aged');
    await append(server, 'aged', [
      { value: 'stale0', timestamp: Date.now() - 120_000 }, { value: 'stale1', timestamp: Date.now() - 90_000 }, { value: 'fresh' },
    ]);
    const aged = await createTrigger(server, d, 'aged', 'aged', { max_record_age_ms: 60_000, start_position: 'earliest' });

    for (const t of [bytes, wait, aged]) await settled(server, t.id);
    const bs = await waitBatches(server, d.fnId, (b) => forStream(b, 'bytes').length === 4 && forStream(b, 'wait').length >= 1 && forStream(b, 'aged').length === 1);
    expect(forStream(bs, 'bytes').map((b) => [b.first, b.last])).toEqual([[0, 1], [2, 2], [3, 3], [4, 4]]);
    expect(forStream(bs, 'wait').map((b) => [b.first, b.last])).toEqual([[0, 2]]);
    expect(forStream(bs, 'aged').map((b) => [b.first, b.last])).toEqual([[2, 2]]);
    expect((await status(server, aged.id)).partitions[0]).toMatchObject({ committed: 3, dead_lettered: 2 });
    const letters = (await readMessages(server, `${d.appName}.fn.aged.dlq`)).messages;
    expect(letters.map((m) => [m.value, m.headers['fnts.dlq.offset'], m.headers['fnts.dlq.attempts']])).toEqual([['stale0', '0', '0'], ['stale1', '1', '0']]);
    expect(letters[0]?.headers['fnts.dlq.error']).toMatch(/older than max_record_age_ms/);
  });
});

describe('batches near the invoke body limit', () => {
  it('fits every batch of max_batch_bytes (allowed up to the invoke body limit) into one call, base64 and JSON overhead included', async () => {
    const small = await fx.server({ FNTS_MAX_REQUEST_BYTES: '65536' });
    const d = await deploy(small);
    await createStream(small, 'near-limit');
    // Ten 6,000-byte records: 60,000 bytes, under max_batch_bytes = the 64 KiB limit, but about 80 KiB once base64 in JSON.
    await append(small, 'near-limit', span(0, 9).map((i) => ({ value: String(i).repeat(6000) })));
    const trigger = await createTrigger(small, d, 'consume', 'near-limit', {
      value_encoding: 'base64', max_batch_bytes: 65536, bisect_on_error: false, max_attempts: 1, start_position: 'earliest',
    });
    const st = await settled(small, trigger.id);
    // Good records are never dead-lettered because the engine built a call too large to send.
    expect(st.partitions[0]).toMatchObject({ committed: 10, dead_lettered: 0 });
    expect((await readMessages(small, `${d.appName}.fn.consume.dlq`)).end_offset).toBe(0);
    expect(allDone(await waitBatches(small, d.fnId, (b) => allDone(b).length === 10))).toEqual(span(0, 9));
  });
});

describe('container start failures', () => {
  it('spends no attempt while the function cannot start (missing image), and delivers once it can', async () => {
    const d = await fx.deploy(server, { image: `fnts-test-no-such-image-${fx.run}:0.0.0`, max_containers: 1, idle_timeout: 20 });
    await createStream(server, 'no-image');
    const trigger = await createTrigger(server, d, 'consume', 'no-image', { max_attempts: 1, backoff_initial_ms: 10, start_position: 'earliest' });
    await append(server, 'no-image', [{ value: 'p' }, { value: 'q' }]);
    const stuck = await waitFor('a throttled retry', () => status(server, trigger.id),
      (s) => s.partitions[0]?.state.kind === 'RETRYING' && (s.partitions[0]?.state.lastError ?? '').length > 0);
    expect(stuck.partitions[0]).toMatchObject({ committed: 0, dead_lettered: 0, state: { kind: 'RETRYING', throttled: true, attempt: 0 } });
    expect(stuck.partitions[0]?.state.lastError).toMatch(/no such image/);
    // Several more tries, none of them counted: each throttled call is counted as such, none as failed.
    const throttled = () => metric(server, 'fnts_stream_batches_total', trigger.id, 'outcome="throttled"').then((n) => n ?? 0);
    const before = await throttled();
    expect(before).toBeGreaterThanOrEqual(1);
    await waitFor('three more throttled tries', throttled, (n) => n >= before + 3);
    expect((await status(server, trigger.id)).partitions[0]).toMatchObject({
      committed: 0, dead_lettered: 0, state: { kind: 'RETRYING', throttled: true, attempt: 0 },
    });
    expect(await metric(server, 'fnts_stream_batches_total', trigger.id, 'outcome="failed"')).toBeUndefined();

    await call(server, 'PUT', `/v2/fns/${d.fnId}`, { image });
    const st = await settled(server, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 2, dead_lettered: 0 });
    expect(ranges(await waitBatches(server, d.fnId, (b) => b.length > 0))).toEqual([{ first: 0, last: 1, attempt: 1, kind: 'ok' }]);
    expect((await readMessages(server, `${d.appName}.fn.consume.dlq`)).end_offset).toBe(0);
  });
});

describe('dead-letter write failures', () => {
  it('blocks the partition visibly when the dead letter cannot be written, drops nothing, and goes on after resume', async () => {
    const d = await deploy(server);
    await createStream(server, 'blocked');
    const trigger = await createTrigger(server, d, 'consume', 'blocked', { max_attempts: 1, start_position: 'earliest' });
    const dlq = `${d.appName}.fn.consume.dlq`;
    // A live trigger's dead-letter stream is protected; only a forced delete removes it.
    const refused = await server.inject({ method: 'DELETE', url: `/v2/streams/${dlq}` });
    expect(refused.statusCode, refused.body).toBe(409);
    const del = await server.inject({ method: 'DELETE', url: `/v2/streams/${dlq}?force=true` });
    expect(del.statusCode, del.body).toBe(204);
    await append(server, 'blocked', [{ value: 'a0' }, { key: 'poison', value: 'p1' }, { value: 'a2' }]);

    const blocked = await waitFor('the partition to block', () => status(server, trigger.id), (s) => s.partitions[0]?.state.kind === 'BLOCKED');
    expect(blocked.partitions[0]).toMatchObject({ committed: 1, lag_records: 2, dead_lettered: 0 });
    expect(blocked.partitions[0]?.state).toMatchObject({ reason: expect.stringMatching(/dead-letter write failed.*does not exist/) });
    // A witness whose dead-letter stream works gets past the poison to a2 ...
    const witness = await startWitness(server, 'blocked', { max_attempts: 1, start_position: 'earliest' });
    await witness.delivered(2);
    // ... while this one stopped at the poison: a2 was not delivered, and the poison is still the next record.
    expect(ranges(await batches(server, d.fnId))).toEqual([{ first: 0, last: 2, attempt: 1, kind: 'partial' }]);
    expect((await status(server, trigger.id)).partitions[0]).toMatchObject({ committed: 1, state: { kind: 'BLOCKED' } });

    await createStream(server, dlq);
    await call(server, 'POST', `/v2/triggers/${trigger.id}/resume`);
    const st = await settled(server, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 3, dead_lettered: 1, state: { kind: 'IDLE' } });
    expect((await readMessages(server, dlq)).messages.map((m) => [m.key, m.value, m.headers['fnts.dlq.offset']])).toEqual([['poison', 'p1', '1']]);
    const bs = await waitBatches(server, d.fnId, (b) => b.length === 2);
    expect(allDone(bs)).toEqual([0, 2]);
  });
});

describe('start positions', () => {
  it('with "latest", processes every record appended after the create returned, none from before it, and skips nothing', async () => {
    const d = await deploy(server);
    await createStream(server, 'latest', { partitions: 2 });
    interface Sent { partition: number; offset: number; before: boolean; after: boolean }
    const sent: Sent[] = [];
    const now: { phase: 'before' | 'during' | 'after' } = { phase: 'before' };
    let stop = false;
    const producer = (async () => {
      for (let i = 0; !stop; i++) {
        const sentAfter = now.phase === 'after';
        const [o] = await append(server, 'latest', [{ value: `m${i}` }]);
        // `before`: appended before the create request was sent; `after`: sent once the create had returned.
        sent.push({ ...(o as { partition: number; offset: number }), before: now.phase === 'before', after: sentAfter });
        await sleep(2);
      }
    })();
    await waitFor('the producer to get going', async () => sent.length, (n) => n >= 20);
    now.phase = 'during';
    const trigger = await createTrigger(server, d, 'consume', 'latest', { start_position: 'latest', batch_size: 50 });
    now.phase = 'after';
    await waitFor('records appended after the create', async () => sent.filter((s) => s.after).length, (n) => n >= 40);
    stop = true;
    await producer;

    const st = await settled(server, trigger.id);
    const bs = await waitBatches(server, d.fnId, (b) => allDone(b).length >= sent.filter((s) => s.after).length
      && [0, 1].every((p) => b.filter((x) => x.p === p).some((x) => x.last === (st.partitions[p]?.end ?? 0) - 1)));
    for (const p of [0, 1]) {
      const done = bs.filter((b) => b.p === p).flatMap((b) => b.done);
      const mine = sent.filter((s) => s.partition === p);
      const end = st.partitions[p]?.end ?? -1;
      // A contiguous run up to the end of the partition: nothing skipped...
      expect(done.length).toBeGreaterThan(0);
      expect(done).toEqual(span(done[0] as number, end - 1));
      // ...starting after everything appended before the create, and at or before everything appended after it.
      const lastBefore = Math.max(...mine.filter((s) => s.before).map((s) => s.offset));
      const firstAfter = Math.min(...mine.filter((s) => s.after).map((s) => s.offset));
      expect(lastBefore).toBeGreaterThanOrEqual(9); // 20 appended before, round robin over 2 partitions
      expect(firstAfter).toBeLessThan(end - 10); // 40 appended after
      expect(done[0]).toBeGreaterThan(lastBefore);
      expect(done[0]).toBeLessThanOrEqual(firstAfter);
    }
  });
});

describe('pause, seek and resume', () => {
  it('replays from earliest or a timestamp with the same batch ids for the same ranges; seek needs a paused trigger', async () => {
    const d = await deploy(server);
    await createStream(server, 'replay');
    const base = Date.now() - 60_000;
    await append(server, 'replay', span(0, 4).map((i) => ({ value: `r${i}`, timestamp: base + i * 1000 })));
    const trigger = await createTrigger(server, d, 'consume', 'replay', { start_position: 'earliest' });
    await settled(server, trigger.id);
    const [first] = await waitBatches(server, d.fnId, (b) => b.length === 1);
    expect(first).toMatchObject({ first: 0, last: 4, attempt: 1, done: [0, 1, 2, 3, 4] });

    const running = await server.inject({ method: 'POST', url: `/v2/triggers/${trigger.id}/seek`, payload: { position: 'earliest' } });
    expect(running.statusCode, running.body).toBe(409);
    expect(running.json()).toMatchObject({ code: 'FNTS_ERR_API_CONFLICT', message: expect.stringMatching(/pause the trigger before seeking/) });
    expect((await status(server, trigger.id)).partitions[0]?.committed).toBe(5);

    // Pause: nothing new is delivered while paused.
    expect(await call<TriggerStatus>(server, 'POST', `/v2/triggers/${trigger.id}/pause`)).toMatchObject({ paused: true });
    await waitFor('the partition to pause', () => status(server, trigger.id), (s) => s.partitions[0]?.state.kind === 'PAUSED');
    const witness = await startWitness(server, 'replay', { start_position: 'latest' });
    await append(server, 'replay', [{ value: 'r5', timestamp: base + 5000 }]);
    // r5 reaches a running trigger, not the paused one.
    await witness.delivered(5);
    expect(await batches(server, d.fnId)).toHaveLength(1);
    const paused = (await status(server, trigger.id)).partitions[0];
    expect(paused).toMatchObject({ committed: 5, lag_records: 1, state: { kind: 'PAUSED' } });
    // Lag in seconds is the age of the oldest unprocessed record (r5 is 55 s old).
    expect(paused?.lag_seconds).toBeGreaterThan(54);
    expect(paused?.lag_seconds).toBeLessThan(120);

    // Seek to earliest, resume: everything again, 0..5 in one batch.
    const sought = await call<TriggerStatus>(server, 'POST', `/v2/triggers/${trigger.id}/seek`, { position: 'earliest' });
    expect(sought.partitions[0]).toMatchObject({ committed: 0, lag_records: 6 });
    expect(await call<TriggerStatus>(server, 'POST', `/v2/triggers/${trigger.id}/resume`)).toMatchObject({ paused: false });
    await settled(server, trigger.id);
    const second = (await waitBatches(server, d.fnId, (b) => b.length === 2))[1];
    expect(second).toMatchObject({ first: 0, last: 5, attempt: 1, done: span(0, 5) });

    // Seek to a timestamp twice: the same range again, with the same batch id.
    const replays: BatchLine[] = [];
    for (let round = 0; round < 2; round++) {
      await call(server, 'POST', `/v2/triggers/${trigger.id}/pause`);
      const byTime = await call<TriggerStatus>(server, 'POST', `/v2/triggers/${trigger.id}/seek`, { position: { timestamp: base + 2000 } });
      expect(byTime.partitions[0]).toMatchObject({ committed: 2, lag_records: 4 });
      await call(server, 'POST', `/v2/triggers/${trigger.id}/resume`);
      await settled(server, trigger.id);
      replays.push((await waitBatches(server, d.fnId, (b) => b.length === 3 + round))[2 + round] as BatchLine);
    }
    expect(replays.map((b) => ({ first: b.first, last: b.last, attempt: b.attempt, done: b.done }))).toEqual([
      { first: 2, last: 5, attempt: 1, done: [2, 3, 4, 5] },
      { first: 2, last: 5, attempt: 1, done: [2, 3, 4, 5] },
    ]);
    expect(replays[0]?.id).toBe(replays[1]?.id);
    expect(replays[0]?.id).not.toBe(second?.id);
  });

  it('moves only the partitions named in an offsets seek', async () => {
    const d = await deploy(server);
    await createStream(server, 'named', { partitions: 2 });
    await append(server, 'named', span(0, 3).map((i) => ({ value: `n${i}` })));
    const trigger = await createTrigger(server, d, 'consume', 'named', { start_position: 'earliest' });
    await settled(server, trigger.id);
    await call(server, 'POST', `/v2/triggers/${trigger.id}/pause`);
    const sought = await call<TriggerStatus>(server, 'POST', `/v2/triggers/${trigger.id}/seek`, { position: { offsets: { 1: 0 } } });
    expect(sought.partitions.map((p) => [p.partition, p.committed])).toEqual([[0, 2], [1, 0]]);
  });

  it('fences a batch that finishes after a pause: its commit is discarded and it is redelivered with the same id', async () => {
    const d = await deploy(server);
    await createStream(server, 'fence');
    await append(server, 'fence', [{ value: 'slow' }]);
    const trigger = await createTrigger(server, d, 'consume', 'fence', { start_position: 'earliest' });
    await waitFor('the slow batch in flight', () => status(server, trigger.id), (s) => s.partitions[0]?.in_flight !== null);
    await call(server, 'POST', `/v2/triggers/${trigger.id}/pause`);
    // The function finishes the call, but the engine must not commit it.
    const [late] = await waitBatches(server, d.fnId, (b) => b.length === 1);
    await waitFor('the fenced call to end', () => status(server, trigger.id), (s) => s.partitions[0]?.in_flight === null);
    expect((await status(server, trigger.id)).partitions[0]).toMatchObject({ committed: 0, lag_records: 1, state: { kind: 'PAUSED' } });
    await call(server, 'POST', `/v2/triggers/${trigger.id}/resume`);
    const st = await settled(server, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 1 });
    const bs = await waitBatches(server, d.fnId, (b) => b.length === 2);
    expect(bs.map((b) => [b.first, b.last, b.id, b.attempt])).toEqual([[0, 0, late?.id, 1], [0, 0, late?.id, 1]]);
    expect(await metric(server, 'fnts_stream_batches_total', trigger.id, 'outcome="fenced"')).toBe(1);
    expect(await metric(server, 'fnts_stream_batches_total', trigger.id, 'outcome="ok"')).toBe(1);
  });
});

describe('concurrency across partitions', () => {
  it('does not let a partition that is backing off hold a max_concurrency slot: the other partition keeps moving', async () => {
    const d = await deploy(server);
    await createStream(server, 'fair', { partitions: 2 });
    // One slot for two partitions; a failing record backs off for a long (random, up to an hour) while.
    const trigger = await createTrigger(server, d, 'consume', 'fair', {
      max_concurrency: 1, max_attempts: 100, backoff_initial_ms: 3_600_000, backoff_max_ms: 3_600_000, start_position: 'earliest',
    });
    const [poison] = await append(server, 'fair', [{ key: 'poison', value: 'p' }]);
    const bad = (poison as { partition: number }).partition;
    const good = 1 - bad;
    await waitFor('the poison partition to back off', () => status(server, trigger.id), (s) => s.partitions[bad]?.state.kind === 'RETRYING');
    const more = await append(server, 'fair', [{ value: 'g0' }, { value: 'g1' }, { value: 'g2' }, { value: 'g3' }]);
    const goodCount = more.filter((o) => o.partition === good).length;
    expect(goodCount).toBe(2);
    // The healthy partition is served while the other one waits out its backoff.
    const st = await waitFor('the healthy partition to be processed', () => status(server, trigger.id),
      (s) => s.partitions[good]?.committed === goodCount, 6000);
    expect(st.partitions[bad]).toMatchObject({ committed: 0, state: { kind: 'RETRYING' } });
    await call(server, 'POST', `/v2/triggers/${trigger.id}/pause`);
  });
});

describe('graceful shutdown', () => {
  it('abandons the batch in flight uncommitted, spends no attempt on it, and redelivers it after a restart', async () => {
    const db = join(fx.work, 'graceful', 'fnts.db');
    const first = await fx.server({ FNTS_DB: db });
    const d = await deploy(first);
    await createStream(first, 'graceful');
    await append(first, 'graceful', [{ value: 'slow' }]);
    // max_attempts 1: if the aborted call counted as a failure, the record would be dead-lettered at once.
    const trigger = await createTrigger(first, d, 'consume', 'graceful', { max_attempts: 1, start_position: 'earliest' });
    const running = await waitFor('the batch in flight', () => status(first, trigger.id), (s) => s.partitions[0]?.in_flight !== null);
    // The function has the batch (its call is running) when the server shuts down.
    await waitFor('the function to start the batch', () => lines(first, d.fnId), (l) => l.some((x) => x.startsWith('BEGIN ')));
    await first.close();

    const second = await fx.server({ FNTS_DB: db });
    const st = await settled(second, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 1 });
    expect((await readMessages(second, `${d.appName}.fn.consume.dlq`)).end_offset).toBe(0);
    const bs = await waitBatches(second, d.fnId, (b) => b.length > 0);
    expect(bs.map((b) => [b.first, b.last, b.id, b.attempt, b.kind])).toEqual([[0, 0, running.partitions[0]?.in_flight?.id, 1, 'ok']]);
  });
});

describe('redrive', () => {
  it('sends a dead-lettered record back to the fixed function: {redriven: 1, remaining: 0}', async () => {
    const d = await deploy(server, { config: { POISON: 'on' } });
    await createStream(server, 'redrive');
    await append(server, 'redrive', [{ value: 'a0' }, { key: 'throw', value: 'bad', headers: { h: 'v' } }, { value: 'a2' }, { value: 'a3' }]);
    const trigger = await createTrigger(server, d, 'consume', 'redrive', { max_attempts: 2, backoff_initial_ms: 10, start_position: 'earliest' });
    const st = await settled(server, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 4, dead_lettered: 1 });
    const bs = await waitBatches(server, d.fnId, (b) => allDone(b).length === 3);
    expect(allDone(bs)).toEqual([0, 2, 3]);
    // A thrown error fails the whole batch: bisected down to the record, which then used up its attempts.
    const alone = bs.filter((b) => b.first === 1 && b.last === 1);
    expect(alone.map((b) => [b.attempt, b.kind])).toEqual([[1, 'throw'], [2, 'throw']]);
    const dlq = `${d.appName}.fn.consume.dlq`;
    const [letter] = (await readMessages(server, dlq)).messages;
    expect(letter).toMatchObject({ key: 'throw', value: 'bad', headers: { h: 'v', 'fnts.dlq.offset': '1', 'fnts.dlq.attempts': '2', 'fnts.dlq.status': '502' } });

    // Still broken: the redrive stops at the failure and keeps the letter.
    const failed = await call<{ redriven: number; remaining: number; error?: string }>(server, 'POST', `/v2/triggers/${trigger.id}/redrive`);
    expect(failed).toMatchObject({ redriven: 0, remaining: 1 });
    expect(failed.error).toBeTruthy();

    // Fixed: the record reaches the function again with its original coordinates, once.
    await call(server, 'PUT', `/v2/fns/${d.fnId}`, { config: { POISON: 'off' } });
    expect(await call(server, 'POST', `/v2/triggers/${trigger.id}/redrive`)).toEqual({ redriven: 1, remaining: 0 });
    const after = await waitBatches(server, d.fnId, (b) => b.some((x) => x.first === 1 && x.kind === 'ok'));
    const redriven = after.filter((b) => b.first === 1 && b.kind === 'ok');
    expect(redriven).toHaveLength(1);
    expect(redriven[0]).toMatchObject({ last: 1, p: 0, done: [1], dlq: ['1'], attempt: 3, id: alone[0]?.id });
    expect(await call(server, 'POST', `/v2/triggers/${trigger.id}/redrive`)).toEqual({ redriven: 0, remaining: 0 });
    expect((await status(server, trigger.id)).partitions[0]).toMatchObject({ committed: 4 });
  });
});

describe('retention', () => {
  it('drops expired messages from reads and moves the start offset; a trigger behind them moves on to what is left', async () => {
    const d = await deploy(server);
    await createStream(server, 'short', { retention_ms: 1000 });
    const trigger = await createTrigger(server, d, 'consume', 'short', { start_position: 'earliest', paused: true });
    expect((await fx.invoke(server, d.fnId, { hold: 0 })).statusCode).toBe(200); // warm, so delivery is prompt
    const now = Date.now();
    await append(server, 'short', [
      ...span(0, 4).map((i) => ({ value: `old${i}`, timestamp: now - 10_000 })),
      // Fresh ones outlive the test's next steps (retention 1 s, counted from their timestamps).
      ...span(5, 7).map((i) => ({ value: `new${i}`, timestamp: now + 2000 })),
    ]);
    await waitFor('the old messages to be trimmed', () => call<{ offsets: { start: number }[] }>(server, 'GET', '/v2/streams/short'),
      (s) => s.offsets[0]?.start === 5, 10_000);
    const read = await readMessages(server, 'short', 'offset=0');
    expect(read.messages.map((m) => [m.offset, m.value])).toEqual([[5, 'new5'], [6, 'new6'], [7, 'new7']]);
    expect((await status(server, trigger.id)).partitions[0]).toMatchObject({ start: 5, end: 8, lag_records: 3 });

    await call(server, 'POST', `/v2/triggers/${trigger.id}/resume`);
    const st = await settled(server, trigger.id);
    expect(st.partitions[0]).toMatchObject({ committed: 8, dead_lettered: 0 });
    expect(allDone(await waitBatches(server, d.fnId, (b) => b.length > 0))).toEqual([5, 6, 7]);

    // Once the fresh ones expire too, the partition is empty: start = end, and reads return nothing.
    const empty = await waitFor('everything to be trimmed', () => call<{ offsets: { start: number; end: number }[] }>(server, 'GET', '/v2/streams/short'),
      (s) => s.offsets[0]?.start === 8, 10_000);
    expect(empty.offsets).toEqual([{ partition: 0, start: 8, end: 8 }]);
    expect((await readMessages(server, 'short', 'offset=0')).messages).toEqual([]);
  });
});
