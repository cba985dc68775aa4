import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Datastore } from '../src/store/datastore.js';
import { partitionForKey, type StreamInfo, type StreamLog } from '../src/streams/embedded/log.js';
import { EmbeddedSource, READ_AHEAD_RECORDS } from '../src/streams/embedded/source.js';
import { STORE_KINDS, streamLogOn, type StoreLocation } from './support/stores.js';

/**
 * The embedded stream log on its own (STREAMS.md), one conformance suite on every store: a real SQLite file and a
 * real PostgreSQL database; no server, no containers. What only servers sharing a database meet is in
 * stream-log-shared.test.ts.
 */

const v = (s: string) => Buffer.from(s);
const values = (ms: { value: Buffer }[]) => ms.map((m) => m.value.toString());

describe.each(STORE_KINDS)('the embedded log on $name', (kind) => {
  let location: StoreLocation;
  let store: Datastore;
  let log: StreamLog;
  let ids = 0;

  const open = async () => {
    store = await location.open();
    log = await streamLogOn(store);
  };
  const stream = async (name: string, partitions = 1, retention_ms = 3_600_000): Promise<StreamInfo> => {
    const now = new Date().toISOString();
    return log.createStream({ id: `s${++ids}`, name, partitions, retention_ms, created_at: now, updated_at: now });
  };

  beforeEach(async () => {
    location = await kind.fresh();
    await open();
  });
  afterEach(async () => {
    await log.close();
    await store.close();
    await location.dispose();
  });

  it('gives each partition dense offsets from 0, strictly increasing across appends', async () => {
    const s = await stream('dense', 3);
    const got: { partition: number; offset: number }[] = [];
    for (let round = 0; round < 4; round++) {
      got.push(...await log.append(s, Array.from({ length: 7 }, (_, i) => ({ key: v(`k${(round * 7 + i) % 5}`), value: v(`${round}.${i}`) }))));
    }
    for (let p = 0; p < 3; p++) {
      const offsets = got.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    const bounds = await log.bounds(s.id);
    expect(bounds.map((b) => b.start)).toEqual([0, 0, 0]);
    expect(bounds.map((b) => b.end)).toEqual([0, 1, 2].map((p) => got.filter((r) => r.partition === p).length));
    expect(bounds.reduce((n, b) => n + b.end, 0)).toBe(28);
    // What was appended is what is read back, in append order per partition.
    for (let p = 0; p < 3; p++) {
      const read = await log.read(s.id, p, 0, 1000);
      expect(read.map((m) => m.offset)).toEqual(read.map((_, i) => i));
      expect(read.every((m) => m.partition === p)).toBe(true);
    }
  });

  it('sends a key to the same partition every time, in every stream with that many partitions (sha1, stable across versions)', async () => {
    const a = await stream('keys-a', 4);
    const b = await stream('keys-b', 4);
    const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);
    const first = await log.append(a, keys.map((k) => ({ key: v(k), value: v('1') })));
    const again = await log.append(a, keys.map((k) => ({ key: v(k), value: v('2') })));
    const other = await log.append(b, keys.map((k) => ({ key: v(k), value: v('3') })));
    expect(again.map((r) => r.partition)).toEqual(first.map((r) => r.partition));
    expect(other.map((r) => r.partition)).toEqual(first.map((r) => r.partition));
    // Pinned: a different hash would move keys to other partitions after an upgrade.
    const sha1 = (k: string) => createHash('sha1').update(k).digest().readUInt32BE(0) % 4;
    expect(first.map((r) => r.partition)).toEqual(keys.map(sha1));
    expect(keys.map((k) => partitionForKey(v(k), 4))).toEqual(keys.map(sha1));
    // 40 keys spread over all 4 partitions.
    expect(new Set(first.map((r) => r.partition)).size).toBe(4);
  });

  it('spreads messages without a key round robin, continuing where the previous append stopped', async () => {
    const s = await stream('rr', 3);
    const one = await log.append(s, [{ value: v('a') }, { value: v('b') }]);
    const two = await log.append(s, [{ value: v('c') }, { key: null, value: v('d') }, { value: v('e') }, { value: v('f') }]);
    expect([...one, ...two].map((r) => r.partition)).toEqual([0, 1, 2, 0, 1, 2]);
    expect([...one, ...two].map((r) => r.offset)).toEqual([0, 0, 0, 1, 1, 1]);
    // A keyed message in between does not disturb the rotation.
    const keyed = await log.append(s, [{ key: v('x'), value: v('g') }]);
    expect(keyed[0]?.partition).toBe(partitionForKey(v('x'), 3));
    expect((await log.append(s, [{ value: v('h') }]))[0]?.partition).toBe(0);
  });

  it('reads from an offset, at most limit messages and about maxBytes, yet an oversized message alone', async () => {
    const s = await stream('read');
    await log.append(s, Array.from({ length: 10 }, (_, i) => ({ value: Buffer.alloc(100, 48 + i) })));
    await log.append(s, [{ value: Buffer.alloc(5000, 120) }, { value: Buffer.alloc(100, 121) }]);
    expect((await log.read(s.id, 0, 3, 4)).map((m) => m.offset)).toEqual([3, 4, 5, 6]);
    expect((await log.read(s.id, 0, 8, 100)).map((m) => m.offset)).toEqual([8, 9, 10, 11]);
    // 100-byte values under a 350-byte budget: three fit.
    expect((await log.read(s.id, 0, 0, 100, 350)).map((m) => m.offset)).toEqual([0, 1, 2]);
    // Keys count toward the budget too.
    await log.append(s, [{ key: Buffer.alloc(300, 1), value: Buffer.alloc(100) }, { value: Buffer.alloc(100) }]);
    expect((await log.read(s.id, 0, 12, 100, 450)).map((m) => m.offset)).toEqual([12]);
    expect((await log.read(s.id, 0, 12, 100, 500)).map((m) => m.offset)).toEqual([12, 13]);
    // The 5000-byte message does not fit 350 bytes but is returned alone rather than stalling the reader...
    const big = await log.read(s.id, 0, 10, 100, 350);
    expect(big.map((m) => m.offset)).toEqual([10]);
    expect(big[0]?.value.length).toBe(5000);
    // ...and never after others that already filled the budget.
    expect((await log.read(s.id, 0, 9, 100, 350)).map((m) => m.offset)).toEqual([9]);
    expect(await log.read(s.id, 0, 14, 100)).toEqual([]);
    expect(await log.read(s.id, 0, 1000, 100)).toEqual([]);
  });

  it('keeps key, value bytes, headers and timestamp exactly', async () => {
    const s = await stream('exact');
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0x0a]);
    await log.append(s, [{ key: Buffer.from([0xff, 0]), value: bytes, headers: { trace: 'abc', 'x-ü': 'ß' }, timestamp: 1_700_000_000_123 }], 5);
    await log.append(s, [{ value: v('plain') }], 42);
    const [m, plain] = await log.read(s.id, 0, 0, 10);
    expect(m).toEqual({ partition: 0, offset: 0, timestamp: 1_700_000_000_123, key: Buffer.from([0xff, 0]), value: bytes, headers: { trace: 'abc', 'x-ü': 'ß' } });
    // Without a timestamp the append time is used; without headers they are empty.
    expect(plain).toMatchObject({ offset: 1, timestamp: 42, key: null, headers: {} });
  });

  it('finds the first offset at or after a timestamp, or the end offset past the last message', async () => {
    const s = await stream('time', 2);
    await log.append(s, [1000, 2000, 2000, 3000, 5000].map((timestamp) => ({ key: v('k'), value: v(String(timestamp)), timestamp })));
    const p = partitionForKey(v('k'), 2);
    expect(await log.offsetForTime(s.id, p, 0)).toBe(0);
    expect(await log.offsetForTime(s.id, p, 1000)).toBe(0);
    expect(await log.offsetForTime(s.id, p, 1001)).toBe(1);
    expect(await log.offsetForTime(s.id, p, 2000)).toBe(1);
    expect(await log.offsetForTime(s.id, p, 4000)).toBe(4);
    expect(await log.offsetForTime(s.id, p, 5001)).toBe(5);
    expect(await log.offsetForTime(s.id, 1 - p, 0)).toBe(0); // empty partition: its end
  });

  it('trims messages older than the retention and moves the start offsets up, per stream', async () => {
    const s = await stream('trim', 2, 10_000);
    const keep = await stream('keep', 1, 100_000);
    await log.append(s, [0, 0, 1, 1, 2, 2, 3, 3].map((i) => ({ value: v(`${i}`), timestamp: 1000 * (i + 1) })));
    await log.append(keep, [{ value: v('old'), timestamp: 1000 }]);
    // Now is 12.5 s: everything before 2.5 s goes from `trim` (offsets 0..1 of each partition); `keep` keeps its message.
    expect(await log.trim(12_500)).toBe(4);
    expect(await log.bounds(s.id)).toEqual([{ partition: 0, start: 2, end: 4 }, { partition: 1, start: 2, end: 4 }]);
    expect(values(await log.read(s.id, 0, 0, 10))).toEqual(['2', '3']);
    expect(await log.bounds(keep.id)).toEqual([{ partition: 0, start: 0, end: 1 }]);
    // Trimming everything leaves start = end, and offsets continue from there.
    expect(await log.trim(100_000)).toBe(4);
    expect(await log.bounds(s.id)).toEqual([{ partition: 0, start: 4, end: 4 }, { partition: 1, start: 4, end: 4 }]);
    expect(await log.append(s, [{ value: v('new') }])).toEqual([{ partition: 0, offset: 4 }]);
    expect((await log.bounds(s.id))[0]).toEqual({ partition: 0, start: 4, end: 5 });
  });

  it('stores consumer-group offsets per group, stream and partition, and forgets a group', async () => {
    const s = await stream('groups', 3);
    const t = await stream('groups-2', 1);
    expect(await log.getGroupOffsets('g1', s.id)).toEqual(new Map());
    await log.commitOffset({ group: 'g1', streamId: s.id, partition: 0, offset: 5 });
    await log.commitOffset({ group: 'g1', streamId: s.id, partition: 2, offset: 7 });
    await log.commitOffset({ group: 'g1', streamId: s.id, partition: 0, offset: 6 });
    await log.commitOffset({ group: 'g2', streamId: s.id, partition: 0, offset: 1 });
    await log.commitOffset({ group: 'g1', streamId: t.id, partition: 0, offset: 9 });
    expect(await log.getGroupOffsets('g1', s.id)).toEqual(new Map([[0, 6], [2, 7]]));
    expect(await log.getGroupOffsets('g2', s.id)).toEqual(new Map([[0, 1]]));
    expect(await log.getGroupOffsets('g1', t.id)).toEqual(new Map([[0, 9]]));
    await log.deleteGroup('g1');
    expect(await log.getGroupOffsets('g1', s.id)).toEqual(new Map());
    expect(await log.getGroupOffsets('g1', t.id)).toEqual(new Map());
    expect(await log.getGroupOffsets('g2', s.id)).toEqual(new Map([[0, 1]]));
  });

  it('keeps streams, messages, bounds, the round-robin position and group offsets across closing and reopening the store', async () => {
    const s = await stream('durable', 2, 60_000);
    await log.append(s, [{ value: v('a'), headers: { h: '1' } }, { value: v('b') }, { value: v('c') }, { key: v('k'), value: Buffer.from([0, 1, 2]) }]);
    await log.commitOffset({ group: 'g', streamId: s.id, partition: 1, offset: 1 });
    const before = { bounds: await log.bounds(s.id), p0: await log.read(s.id, 0, 0, 10), p1: await log.read(s.id, 1, 0, 10) };
    await store.close();

    await open();
    expect(await log.getStream('durable')).toEqual(s);
    expect(await log.getStream(s.id)).toEqual(s);
    expect(await log.bounds(s.id)).toEqual(before.bounds);
    expect(await log.read(s.id, 0, 0, 10)).toEqual(before.p0);
    expect(await log.read(s.id, 1, 0, 10)).toEqual(before.p1);
    expect(await log.getGroupOffsets('g', s.id)).toEqual(new Map([[1, 1]]));
    // Round robin resumes after 'c' (partition 0), and offsets continue densely.
    const next = await log.append(s, [{ value: v('d') }, { value: v('e') }]);
    expect(next.map((r) => r.partition)).toEqual([1, 0]);
    expect(next.map((r) => r.offset)).toEqual([
      (before.bounds[1]?.end ?? -1), (before.bounds[0]?.end ?? -1),
    ]);
  });

  it('wakes a reader waiting on a partition when something is appended there', async () => {
    const s = await stream('wake', 2);
    const ac = new AbortController();
    const started = Date.now();
    const waiting = log.waitForAppend(s.id, 1, 10_000, ac.signal);
    await log.append(s, [{ value: v('p0') }]); // partition 0: not this reader's
    await log.append(s, [{ value: v('p1') }]); // partition 1
    await waiting;
    expect(Date.now() - started).toBeLessThan(5000);
    // An abort ends a wait too.
    const aborted = log.waitForAppend(s.id, 0, 10_000, ac.signal);
    ac.abort();
    await aborted;
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('deletes a stream with its messages and group offsets, leaving others', async () => {
    const s = await stream('gone');
    const other = await stream('stays');
    await log.append(s, [{ value: v('x') }]);
    await log.append(other, [{ value: v('y') }]);
    await log.commitOffset({ group: 'g', streamId: s.id, partition: 0, offset: 1 });
    expect(await log.deleteStream(s.id)).toBe(true);
    expect(await log.getStream('gone')).toBeUndefined();
    expect(await log.read(s.id, 0, 0, 10)).toEqual([]);
    expect(await log.bounds(s.id)).toEqual([]);
    expect(await log.getGroupOffsets('g', s.id)).toEqual(new Map());
    expect(values(await log.read(other.id, 0, 0, 10))).toEqual(['y']);
    expect(await log.deleteStream(s.id)).toBe(false);
  });

  it('stores a fenced commit only while its fence holds', async () => {
    const s = await stream('fenced', 2);
    let current = true;
    const fence = { isCurrent: () => current };
    expect(await log.commitOffset({ group: 'g', streamId: s.id, partition: 1, offset: 4 }, fence)).toBe(true);
    current = false;
    expect(await log.commitOffset({ group: 'g', streamId: s.id, partition: 1, offset: 9 }, fence)).toBe(false);
    expect(await log.commitOffset({ group: 'g', streamId: s.id, partition: 0, offset: 2 }, fence)).toBe(false);
    expect(await log.getGroupOffsets('g', s.id)).toEqual(new Map([[1, 4]]));
  });

  it('appends dead letters and commits past them in one transaction: both, or neither when the fence refuses or it fails', async () => {
    const s = await stream('source', 2);
    const dlq = await stream('source.dlq');
    const at = (offset: number) => ({ group: 'g', streamId: s.id, partition: 1, offset });
    const letter = (n: number) => ({ key: v(`k${n}`), value: v(`poison-${n}`), headers: { 'fnts.dlq.offset': String(n) } });

    const ac = new AbortController();
    const woken = log.waitForAppend(dlq.id, 0, 10_000, ac.signal);
    const started = Date.now();
    expect(await log.deadLetterAndCommit(dlq, [letter(3), letter(4)], at(5), { isCurrent: () => true })).toBe(true);
    await woken;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await log.getGroupOffsets('g', s.id)).toEqual(new Map([[1, 5]]));
    const stored = await log.read(dlq.id, 0, 0, 10);
    expect(values(stored)).toEqual(['poison-3', 'poison-4']);
    expect(stored[1]).toMatchObject({ offset: 1, key: v('k4'), headers: { 'fnts.dlq.offset': '4' } });

    // A fence that no longer holds: no letter, no commit.
    expect(await log.deadLetterAndCommit(dlq, [letter(5)], at(6), { isCurrent: () => false })).toBe(false);
    // A failure after the letters are written (here, in the fence check): the letters go with the commit.
    const broken = { isCurrent: (): boolean => { throw new Error('lost the database'); } };
    await expect(log.deadLetterAndCommit(dlq, [letter(5)], at(6), broken)).rejects.toThrow('lost the database');
    expect(await log.getGroupOffsets('g', s.id)).toEqual(new Map([[1, 5]]));
    expect(await log.bounds(dlq.id)).toEqual([{ partition: 0, start: 0, end: 2 }]);
    expect(values(await log.read(dlq.id, 0, 0, 10))).toEqual(['poison-3', 'poison-4']);
    // The offsets the rolled-back letters had are given back: the next append continues densely.
    expect(await log.append(dlq, [{ value: v('next') }])).toEqual([{ partition: 0, offset: 2 }]);
  });

  it('keeps offsets dense when two store instances append to one partition at once', async () => {
    const s = await stream('together', 3);
    const other = await location.open();
    const otherLog = await streamLogOn(other);
    try {
      const writer = async (into: StreamLog, name: string) => {
        const got: { partition: number; offset: number; value: string }[] = [];
        for (let i = 0; i < 25; i++) {
          // Every batch puts one message on the key's partition and spreads two round robin: both kinds of contention.
          const batch = [{ key: v('same'), value: v(`${name}.${i}.k`) }, { value: v(`${name}.${i}.a`) }, { value: v(`${name}.${i}.b`) }];
          const at = await into.append(s, batch);
          got.push(...at.map((a, j) => ({ ...a, value: (batch[j] as { value: Buffer }).value.toString() })));
        }
        return got;
      };
      const [a, b] = await Promise.all([writer(log, 'a'), writer(otherLog, 'b')]);
      const all = [...a, ...b];
      expect(all).toHaveLength(150);
      for (const p of [0, 1, 2]) {
        const stored = await log.read(s.id, p, 0, 1000);
        // Dense from 0, no duplicates, and what each writer was told is what is stored there.
        expect(stored.map((m) => m.offset)).toEqual(stored.map((_, i) => i));
        const told = all.filter((r) => r.partition === p).sort((x, y) => x.offset - y.offset);
        expect(told.map((r) => [r.offset, r.value])).toEqual(stored.map((m) => [m.offset, m.value.toString()]));
        // Each writer's messages keep its order within the partition.
        for (const name of ['a', 'b']) {
          const mine = stored.map((m) => m.value.toString()).filter((x) => x.startsWith(`${name}.`));
          const order = mine.map((x) => Number(x.split('.')[1]));
          expect(order).toEqual([...order].sort((x, y) => x - y));
        }
      }
      expect((await log.bounds(s.id)).reduce((n, b) => n + b.end, 0)).toBe(150);
      // Round robin stays fair across the two: 100 unkeyed messages over 3 partitions.
      const unkeyed = all.filter((r) => !r.value.endsWith('.k'));
      const perPartition = [0, 1, 2].map((p) => unkeyed.filter((r) => r.partition === p).length);
      expect(Math.max(...perPartition) - Math.min(...perPartition)).toBeLessThanOrEqual(1);
    } finally {
      await otherLog.close();
      await other.close();
    }
  });
  it('as a trigger source, reads ahead for small batches and hands out exactly what a plain read from the offset would', async () => {
    const s = await stream('ahead');
    await log.append(s, Array.from({ length: 250 }, (_, i) => ({ value: v(`r${i}`) })));
    let reads = 0;
    const counted: StreamLog = Object.assign(Object.create(log) as StreamLog, {
      read: (...args: Parameters<StreamLog['read']>) => {
        reads++;
        return log.read(...args);
      },
    });
    const source = new EmbeddedSource(counted, s, 'group-ahead');
    // batch_size 1 over the backlog: every record once, in order, from a read per READ_AHEAD_RECORDS records.
    const seen: number[] = [];
    for (let offset = 0; offset < 250;) {
      const batch = await source.fetch(0, offset, 1, 1 << 20);
      expect(batch).toHaveLength(1);
      seen.push(...batch.map((m) => m.offset));
      offset = (batch[0] as { offset: number }).offset + 1;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(values(await source.fetch(0, 249, 1, 1 << 20))).toEqual(['r249']);
    expect(reads).toBe(Math.ceil(250 / READ_AHEAD_RECORDS));
    // A redelivery (an offset below what was handed out) and a jump ahead read what is there, as a plain read does.
    expect(values(await source.fetch(0, 7, 3, 1 << 20))).toEqual(['r7', 'r8', 'r9']);
    expect(values(await source.fetch(0, 120, 2, 1 << 20))).toEqual(['r120', 'r121']);
    // What is appended after a read-ahead is seen once the read-ahead runs out; the end of the log gives nothing.
    await log.append(s, [{ value: v('late') }]);
    const tail: string[] = [];
    for (let offset = 240; offset <= 250; offset++) tail.push(...values(await source.fetch(0, offset, 1, 1 << 20)));
    expect(tail).toEqual([...Array.from({ length: 10 }, (_, i) => `r${240 + i}`), 'late']);
    expect(await source.fetch(0, 251, 1, 1 << 20)).toEqual([]);
    // max_batch_bytes bounds both the read-ahead and the batch: 2-byte values, 5 bytes allowed, 2 records a batch.
    expect(values(await source.fetch(0, 0, 10, 5))).toEqual(['r0', 'r1']);
    expect(values(await source.fetch(0, 2, 1, 5))).toEqual(['r2']);
  });
});
