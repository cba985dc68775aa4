import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDatastore } from '../src/store/sqlite.js';
import { EmbeddedLog, partitionForKey, type StreamInfo } from '../src/streams/embedded/log.js';
import { createApp, createFn, createTrigger, expectError, req, useApiServer } from './support/api.js';

/**
 * The embedded stream log on its own (STREAMS.md): a SQLite file, no server, no containers; then the
 * `/v2/streams` API's validation on an in-memory server.
 */

const v = (s: string) => Buffer.from(s);
const values = (ms: { value: Buffer }[]) => ms.map((m) => m.value.toString());

describe('EmbeddedLog over a SQLite file', () => {
  let dir: string;
  let store: SqliteDatastore;
  let log: EmbeddedLog;
  let ids = 0;

  const open = () => {
    store = new SqliteDatastore(join(dir, 'streams.db'));
    log = new EmbeddedLog(store.db);
  };
  const stream = (name: string, partitions = 1, retention_ms = 3_600_000): StreamInfo => {
    const now = new Date().toISOString();
    return log.createStream({ id: `s${++ids}`, name, partitions, retention_ms, created_at: now, updated_at: now });
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fnts-stream-log-'));
    open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives each partition dense offsets from 0, strictly increasing across appends', () => {
    const s = stream('dense', 3);
    const got: { partition: number; offset: number }[] = [];
    for (let round = 0; round < 4; round++) {
      got.push(...log.append(s, Array.from({ length: 7 }, (_, i) => ({ key: v(`k${(round * 7 + i) % 5}`), value: v(`${round}.${i}`) }))));
    }
    for (let p = 0; p < 3; p++) {
      const offsets = got.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    const bounds = log.bounds(s.id);
    expect(bounds.map((b) => b.start)).toEqual([0, 0, 0]);
    expect(bounds.map((b) => b.end)).toEqual([0, 1, 2].map((p) => got.filter((r) => r.partition === p).length));
    expect(bounds.reduce((n, b) => n + b.end, 0)).toBe(28);
    // What was appended is what is read back, in append order per partition.
    for (let p = 0; p < 3; p++) {
      const read = log.read(s.id, p, 0, 1000);
      expect(read.map((m) => m.offset)).toEqual(read.map((_, i) => i));
      expect(read.every((m) => m.partition === p)).toBe(true);
    }
  });

  it('sends a key to the same partition every time, in every stream with that many partitions (sha1, stable across versions)', () => {
    const a = stream('keys-a', 4);
    const b = stream('keys-b', 4);
    const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);
    const first = log.append(a, keys.map((k) => ({ key: v(k), value: v('1') })));
    const again = log.append(a, keys.map((k) => ({ key: v(k), value: v('2') })));
    const other = log.append(b, keys.map((k) => ({ key: v(k), value: v('3') })));
    expect(again.map((r) => r.partition)).toEqual(first.map((r) => r.partition));
    expect(other.map((r) => r.partition)).toEqual(first.map((r) => r.partition));
    // Pinned: a different hash would move keys to other partitions after an upgrade.
    const sha1 = (k: string) => createHash('sha1').update(k).digest().readUInt32BE(0) % 4;
    expect(first.map((r) => r.partition)).toEqual(keys.map(sha1));
    expect(keys.map((k) => partitionForKey(v(k), 4))).toEqual(keys.map(sha1));
    // 40 keys spread over all 4 partitions.
    expect(new Set(first.map((r) => r.partition)).size).toBe(4);
  });

  it('spreads messages without a key round robin, continuing where the previous append stopped', () => {
    const s = stream('rr', 3);
    const one = log.append(s, [{ value: v('a') }, { value: v('b') }]);
    const two = log.append(s, [{ value: v('c') }, { key: null, value: v('d') }, { value: v('e') }, { value: v('f') }]);
    expect([...one, ...two].map((r) => r.partition)).toEqual([0, 1, 2, 0, 1, 2]);
    expect([...one, ...two].map((r) => r.offset)).toEqual([0, 0, 0, 1, 1, 1]);
    // A keyed message in between does not disturb the rotation.
    const keyed = log.append(s, [{ key: v('x'), value: v('g') }]);
    expect(keyed[0]?.partition).toBe(partitionForKey(v('x'), 3));
    expect(log.append(s, [{ value: v('h') }])[0]?.partition).toBe(0);
  });

  it('reads from an offset, at most limit messages and about maxBytes, yet an oversized message alone', () => {
    const s = stream('read');
    log.append(s, Array.from({ length: 10 }, (_, i) => ({ value: Buffer.alloc(100, 48 + i) })));
    log.append(s, [{ value: Buffer.alloc(5000, 120) }, { value: Buffer.alloc(100, 121) }]);
    expect(log.read(s.id, 0, 3, 4).map((m) => m.offset)).toEqual([3, 4, 5, 6]);
    expect(log.read(s.id, 0, 8, 100).map((m) => m.offset)).toEqual([8, 9, 10, 11]);
    // 100-byte values under a 350-byte budget: three fit.
    expect(log.read(s.id, 0, 0, 100, 350).map((m) => m.offset)).toEqual([0, 1, 2]);
    // Keys count toward the budget too.
    log.append(s, [{ key: Buffer.alloc(300, 1), value: Buffer.alloc(100) }, { value: Buffer.alloc(100) }]);
    expect(log.read(s.id, 0, 12, 100, 450).map((m) => m.offset)).toEqual([12]);
    expect(log.read(s.id, 0, 12, 100, 500).map((m) => m.offset)).toEqual([12, 13]);
    // The 5000-byte message does not fit 350 bytes but is returned alone rather than stalling the reader...
    const big = log.read(s.id, 0, 10, 100, 350);
    expect(big.map((m) => m.offset)).toEqual([10]);
    expect(big[0]?.value.length).toBe(5000);
    // ...and never after others that already filled the budget.
    expect(log.read(s.id, 0, 9, 100, 350).map((m) => m.offset)).toEqual([9]);
    expect(log.read(s.id, 0, 14, 100)).toEqual([]);
    expect(log.read(s.id, 0, 1000, 100)).toEqual([]);
  });

  it('keeps key, value bytes, headers and timestamp exactly', () => {
    const s = stream('exact');
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0x0a]);
    log.append(s, [{ key: Buffer.from([0xff, 0]), value: bytes, headers: { trace: 'abc', 'x-ü': 'ß' }, timestamp: 1_700_000_000_123 }], 5);
    log.append(s, [{ value: v('plain') }], 42);
    const [m, plain] = log.read(s.id, 0, 0, 10);
    expect(m).toEqual({ partition: 0, offset: 0, timestamp: 1_700_000_000_123, key: Buffer.from([0xff, 0]), value: bytes, headers: { trace: 'abc', 'x-ü': 'ß' } });
    // Without a timestamp the append time is used; without headers they are empty.
    expect(plain).toMatchObject({ offset: 1, timestamp: 42, key: null, headers: {} });
  });

  it('finds the first offset at or after a timestamp, or the end offset past the last message', () => {
    const s = stream('time', 2);
    log.append(s, [1000, 2000, 2000, 3000, 5000].map((timestamp) => ({ key: v('k'), value: v(String(timestamp)), timestamp })));
    const p = partitionForKey(v('k'), 2);
    expect(log.offsetForTime(s.id, p, 0)).toBe(0);
    expect(log.offsetForTime(s.id, p, 1000)).toBe(0);
    expect(log.offsetForTime(s.id, p, 1001)).toBe(1);
    expect(log.offsetForTime(s.id, p, 2000)).toBe(1);
    expect(log.offsetForTime(s.id, p, 4000)).toBe(4);
    expect(log.offsetForTime(s.id, p, 5001)).toBe(5);
    expect(log.offsetForTime(s.id, 1 - p, 0)).toBe(0); // empty partition: its end
  });

  it('trims messages older than the retention and moves the start offsets up, per stream', () => {
    const s = stream('trim', 2, 10_000);
    const keep = stream('keep', 1, 100_000);
    log.append(s, [0, 0, 1, 1, 2, 2, 3, 3].map((i) => ({ value: v(`${i}`), timestamp: 1000 * (i + 1) })));
    log.append(keep, [{ value: v('old'), timestamp: 1000 }]);
    // Now is 12.5 s: everything before 2.5 s goes from `trim` (offsets 0..1 of each partition); `keep` keeps its message.
    expect(log.trim(12_500)).toBe(4);
    expect(log.bounds(s.id)).toEqual([{ partition: 0, start: 2, end: 4 }, { partition: 1, start: 2, end: 4 }]);
    expect(values(log.read(s.id, 0, 0, 10))).toEqual(['2', '3']);
    expect(log.bounds(keep.id)).toEqual([{ partition: 0, start: 0, end: 1 }]);
    // Trimming everything leaves start = end, and offsets continue from there.
    expect(log.trim(100_000)).toBe(4);
    expect(log.bounds(s.id)).toEqual([{ partition: 0, start: 4, end: 4 }, { partition: 1, start: 4, end: 4 }]);
    expect(log.append(s, [{ value: v('new') }])).toEqual([{ partition: 0, offset: 4 }]);
    expect(log.bounds(s.id)[0]).toEqual({ partition: 0, start: 4, end: 5 });
  });

  it('stores consumer-group offsets per group, stream and partition, and forgets a group', () => {
    const s = stream('groups', 3);
    const t = stream('groups-2', 1);
    expect(log.getGroupOffsets('g1', s.id)).toEqual(new Map());
    log.setGroupOffset('g1', s.id, 0, 5);
    log.setGroupOffset('g1', s.id, 2, 7);
    log.setGroupOffset('g1', s.id, 0, 6);
    log.setGroupOffset('g2', s.id, 0, 1);
    log.setGroupOffset('g1', t.id, 0, 9);
    expect(log.getGroupOffsets('g1', s.id)).toEqual(new Map([[0, 6], [2, 7]]));
    expect(log.getGroupOffsets('g2', s.id)).toEqual(new Map([[0, 1]]));
    expect(log.getGroupOffsets('g1', t.id)).toEqual(new Map([[0, 9]]));
    log.deleteGroup('g1');
    expect(log.getGroupOffsets('g1', s.id)).toEqual(new Map());
    expect(log.getGroupOffsets('g1', t.id)).toEqual(new Map());
    expect(log.getGroupOffsets('g2', s.id)).toEqual(new Map([[0, 1]]));
  });

  it('keeps streams, messages, bounds, the round-robin position and group offsets across closing and reopening the file', async () => {
    const s = stream('durable', 2, 60_000);
    log.append(s, [{ value: v('a'), headers: { h: '1' } }, { value: v('b') }, { value: v('c') }, { key: v('k'), value: Buffer.from([0, 1, 2]) }]);
    log.setGroupOffset('g', s.id, 1, 1);
    const before = { bounds: log.bounds(s.id), p0: log.read(s.id, 0, 0, 10), p1: log.read(s.id, 1, 0, 10) };
    await store.close();

    open();
    expect(log.getStream('durable')).toEqual(s);
    expect(log.getStream(s.id)).toEqual(s);
    expect(log.bounds(s.id)).toEqual(before.bounds);
    expect(log.read(s.id, 0, 0, 10)).toEqual(before.p0);
    expect(log.read(s.id, 1, 0, 10)).toEqual(before.p1);
    expect(log.getGroupOffsets('g', s.id)).toEqual(new Map([[1, 1]]));
    // Round robin resumes after 'c' (partition 0), and offsets continue densely.
    const next = log.append(s, [{ value: v('d') }, { value: v('e') }]);
    expect(next.map((r) => r.partition)).toEqual([1, 0]);
    expect(next.map((r) => r.offset)).toEqual([
      (before.bounds[1]?.end ?? -1), (before.bounds[0]?.end ?? -1),
    ]);
  });

  it('wakes a reader waiting on a partition when something is appended there', async () => {
    const s = stream('wake', 2);
    const ac = new AbortController();
    const started = Date.now();
    const waiting = log.waitForAppend(s.id, 1, 10_000, ac.signal);
    log.append(s, [{ value: v('p0') }]); // partition 0: not this reader's
    log.append(s, [{ value: v('p1') }]); // partition 1
    await waiting;
    expect(Date.now() - started).toBeLessThan(5000);
    // An abort ends a wait too.
    const aborted = log.waitForAppend(s.id, 0, 10_000, ac.signal);
    ac.abort();
    await aborted;
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('deletes a stream with its messages and group offsets, leaving others', () => {
    const s = stream('gone');
    const other = stream('stays');
    log.append(s, [{ value: v('x') }]);
    log.append(other, [{ value: v('y') }]);
    log.setGroupOffset('g', s.id, 0, 1);
    expect(log.deleteStream(s.id)).toBe(true);
    expect(log.getStream('gone')).toBeUndefined();
    expect(log.read(s.id, 0, 0, 10)).toEqual([]);
    expect(log.bounds(s.id)).toEqual([]);
    expect(log.getGroupOffsets('g', s.id)).toEqual(new Map());
    expect(values(log.read(other.id, 0, 0, 10))).toEqual(['y']);
    expect(log.deleteStream(s.id)).toBe(false);
  });
});

describe('/v2/streams API', () => {
  useApiServer();

  const post = (url: string, body: unknown) => req('POST', url, body);

  it('creates a stream with defaults and shows its offsets', async () => {
    const res = await post('/v2/streams', { name: 'orders.v1_x-y' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'orders.v1_x-y', partitions: 1, retention_ms: 7 * 86_400_000 });
    const got = await req('GET', '/v2/streams/orders.v1_x-y');
    expect(got.json()).toMatchObject({ id: res.json<{ id: string }>().id, offsets: [{ partition: 0, start: 0, end: 0 }] });
    expect((await req('GET', `/v2/streams/${res.json<{ id: string }>().id}`)).json()).toMatchObject({ name: 'orders.v1_x-y' });
  });

  it('validates name, partitions and retention, and refuses a duplicate name', async () => {
    expectError(await post('/v2/streams', {}), 400, 'Missing stream name', 'FNTS_ERR_API_VALIDATION');
    for (const name of ['has space', 'a/b', 'x'.repeat(256), '']) {
      expectError(await post('/v2/streams', { name }), 400, name === '' ? 'Missing stream name' : /^Invalid stream name/, 'FNTS_ERR_API_VALIDATION');
    }
    for (const partitions of [0, -1, 257]) {
      expectError(await post('/v2/streams', { name: 'p', partitions }), 400, 'partitions must be between 1 and 256', 'FNTS_ERR_API_VALIDATION');
    }
    expectError(await post('/v2/streams', { name: 'r', retention_ms: 999 }), 400, /^retention_ms must be between/, 'FNTS_ERR_API_VALIDATION');
    expect((await post('/v2/streams', { name: 'x'.repeat(255), partitions: 256 })).statusCode).toBe(200);
    expect((await post('/v2/streams', { name: 'dup' })).statusCode).toBe(200);
    expectError(await post('/v2/streams', { name: 'dup', partitions: 2 }), 409, 'Stream already exists', 'FNTS_ERR_API_CONFLICT');
    expect((await req('GET', '/v2/streams?name=p')).json()).toMatchObject({ items: [] });
  });

  it('answers 404 for an unknown stream on every route', async () => {
    for (const [method, url, body] of [
      ['GET', '/v2/streams/nope', undefined],
      ['PUT', '/v2/streams/nope', { retention_ms: 5000 }],
      ['DELETE', '/v2/streams/nope', undefined],
      ['POST', '/v2/streams/nope/messages', { messages: [{ value: 'x' }] }],
      ['GET', '/v2/streams/nope/messages', undefined],
      ['GET', '/v2/streams/nope/groups/g', undefined],
      ['PUT', '/v2/streams/nope/groups/g', { offsets: { 0: 1 } }],
    ] as const) {
      expectError(await req(method, url, body), 404, 'Stream not found', 'FNTS_ERR_STREAM_NOT_FOUND');
    }
  });

  it('refuses a value over 1 MiB with 413 and appends nothing of that request', async () => {
    await post('/v2/streams', { name: 'big' });
    const mib = 1024 * 1024;
    const tooBig = await post('/v2/streams/big/messages', { messages: [{ value: 'ok' }, { value: 'x'.repeat(mib + 1) }] });
    expectError(tooBig, 413, /is 1048577 bytes; the limit is 1 MiB/, 'FNTS_ERR_API_PAYLOAD_TOO_LARGE');
    expect((await req('GET', '/v2/streams/big')).json()).toMatchObject({ offsets: [{ partition: 0, start: 0, end: 0 }] });
    // Exactly 1 MiB is accepted.
    const ok = await post('/v2/streams/big/messages', { encoding: 'base64', messages: [{ value: Buffer.alloc(mib, 7).toString('base64') }] });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ offsets: [{ partition: 0, offset: 0 }] });
  });

  it('appends in utf8, base64 and json and reads back by offset, timestamp and limit', async () => {
    await post('/v2/streams', { name: 'enc', partitions: 2 });
    const put = async (body: unknown) => {
      const res = await post('/v2/streams/enc/messages', body);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ offsets: { partition: number; offset: number }[] }>().offsets;
    };
    const key = 'k1';
    const p = partitionForKey(v(key), 2);
    await put({ messages: [{ key, value: 'héllo', headers: { a: 'b' }, timestamp: 1000 }] });
    await put({ encoding: 'base64', messages: [{ key: Buffer.from(key).toString('base64'), value: Buffer.from([0, 255, 10]).toString('base64'), timestamp: 2000 }] });
    await put({ encoding: 'json', messages: [{ key, value: { n: 1, s: 'x' }, timestamp: 3000 }] });
    const read = async (query: string) => {
      const res = await req('GET', `/v2/streams/enc/messages?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ messages: { offset: number; key: string; value: string; headers: Record<string, string>; timestamp: number }[]; next_offset: number; end_offset: number }>();
    };
    const all = await read(`partition=${p}&encoding=base64`);
    expect(all.messages.map((m) => Buffer.from(m.value, 'base64'))).toEqual([Buffer.from('héllo'), Buffer.from([0, 255, 10]), Buffer.from('{"n":1,"s":"x"}')]);
    expect(all.messages.map((m) => Buffer.from(m.key, 'base64').toString())).toEqual([key, key, key]);
    expect(all.messages[0]).toMatchObject({ offset: 0, timestamp: 1000, headers: { a: 'b' } });
    expect(all).toMatchObject({ next_offset: 3, end_offset: 3 });
    const page = await read(`partition=${p}&offset=1&limit=1`);
    expect(page.messages.map((m) => m.offset)).toEqual([1]);
    expect(page).toMatchObject({ next_offset: 2, end_offset: 3 });
    const byTime = await read(`partition=${p}&timestamp=2500`);
    expect(byTime.messages.map((m) => m.value)).toEqual(['{"n":1,"s":"x"}']);
    const past = await read(`partition=${p}&timestamp=9999`);
    expect(past).toEqual({ messages: [], next_offset: 3, end_offset: 3 });
    expectError(await req('GET', '/v2/streams/enc/messages?partition=2'), 400, 'partition must be below 2', 'FNTS_ERR_API_VALIDATION');
    expectError(await post('/v2/streams/enc/messages', { encoding: 'base64', messages: [{ value: 5 }] }), 400, /must be a string/, 'FNTS_ERR_API_VALIDATION');
  });

  it('sets and reads consumer-group offsets, refusing a partition the stream does not have', async () => {
    await post('/v2/streams', { name: 'grp', partitions: 2 });
    expect((await req('GET', '/v2/streams/grp/groups/g')).json()).toEqual({ offsets: {} });
    const set = await req('PUT', '/v2/streams/grp/groups/g', { offsets: { 0: 4, 1: 2 } });
    expect(set.json()).toEqual({ offsets: { 0: 4, 1: 2 } });
    expect((await req('PUT', '/v2/streams/grp/groups/g', { offsets: { 1: 3 } })).json()).toEqual({ offsets: { 0: 4, 1: 3 } });
    expectError(await req('PUT', '/v2/streams/grp/groups/g', { offsets: { 2: 1 } }), 400, /partition 2 does not exist/, 'FNTS_ERR_API_VALIDATION');
  });

  it('refuses to delete a stream that feeds a trigger with 409, and deletes it once the trigger is gone', async () => {
    await post('/v2/streams', { name: 'feeds' });
    const app = await createApp({ name: 'sapp' });
    const fn = await createFn({ app_id: app.id, name: 'f', image: 'fnts-test-no-such-image:0.0.0' });
    const trigger = await createTrigger({ name: 'consume', app_id: app.id, fn_id: fn.id, type: 'stream', source: 'feeds' });
    // The dead-letter stream was made with the trigger.
    expect((await req('GET', '/v2/streams/sapp.f.consume.dlq')).json()).toMatchObject({ partitions: 1 });
    expectError(await req('DELETE', '/v2/streams/feeds'), 409, /feeds trigger consume; delete those triggers first/, 'FNTS_ERR_API_CONFLICT');
    expect((await req('GET', '/v2/streams/feeds')).statusCode).toBe(200);
    expect((await req('DELETE', `/v2/triggers/${trigger.id}`)).statusCode).toBe(204);
    const del = await req('DELETE', '/v2/streams/feeds');
    expect(del.statusCode, del.body).toBe(204);
    expectError(await req('GET', '/v2/streams/feeds'), 404, 'Stream not found');
  });

  it('refuses a stream trigger on a missing stream, and bad options, listing every problem', async () => {
    const app = await createApp({ name: 'oapp' });
    const fn = await createFn({ app_id: app.id, name: 'f', image: 'fnts-test-no-such-image:0.0.0' });
    const base = { name: 't', app_id: app.id, fn_id: fn.id, type: 'stream' };
    expectError(await post('/v2/triggers', { ...base, source: 'missing' }), 400, /stream "missing" does not exist/, 'FNTS_ERR_API_VALIDATION');
    await post('/v2/streams', { name: 'opts' });
    const bad = await post('/v2/triggers', { ...base, source: 'opts', options: { batch_size: 0, value_encoding: 'hex', start_position: 'middle', nope: 1 } });
    const body = expectError(bad, 400, /options\.batch_size must be an integer from 1 to 10000/, 'FNTS_ERR_API_VALIDATION');
    expect(body.message).toMatch(/options\.value_encoding/);
    expect(body.message).toMatch(/options\.start_position/);
    expect(body.message).toMatch(/options\.nope is not a stream trigger option/);
    // Defaults are filled in and returned.
    const ok = await post('/v2/triggers', { ...base, source: 'opts', options: { batch_size: 5 } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      options: {
        batch_size: 5, max_wait_ms: 0, start_position: 'latest', max_attempts: 10, bisect_on_error: true,
        dead_letter_stream: 'oapp.f.t.dlq', max_record_age_ms: 0, value_encoding: 'base64', paused: false,
      },
    });
  });
});
