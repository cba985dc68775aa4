import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../../test/support/postgres.js';
import { PostgresDatastore } from '../src/store/postgres.js';
import type { StreamInfo, StreamLog } from '../src/streams/embedded/log.js';
import { PostgresStreamLog, type PostgresLeaseCheck } from '../src/streams/embedded/postgres-log.js';
import { streamLogOn } from './support/stores.js';

/**
 * The embedded log as servers sharing one PostgreSQL database meet it: each "server" here is a store with its own
 * pool and its own listening connection. An append through one wakes the readers of every other at once (NOTIFY in
 * the append's transaction), and readers do not sleep through appends made while their listening connection was down.
 */
const opened: { store: PostgresDatastore; log: StreamLog }[] = [];
const openedLog = (store: PostgresDatastore, log: StreamLog) => {
  opened.push({ store, log });
  return log;
};
const server = async (url: string) => {
  const store = await PostgresDatastore.open(url);
  const log = await streamLogOn(store);
  opened.push({ store, log });
  return { store, log };
};
afterEach(async () => {
  for (const { store, log } of opened.splice(0)) {
    await log.close();
    await store.close();
  }
});

const newStream = (log: StreamLog, name: string, partitions: number): Promise<StreamInfo> => {
  const now = new Date().toISOString();
  return log.createStream({ id: `id-${name}`, name, partitions, retention_ms: 3_600_000, created_at: now, updated_at: now });
};

/** Milliseconds from an append through `writer` until a reader of `reader` waiting on that partition wakes. */
async function wakeMs(reader: StreamLog, writer: StreamLog, s: StreamInfo, partition: number): Promise<number> {
  const ac = new AbortController();
  const waited = reader.waitForAppend(s.id, partition, 30_000, ac.signal);
  const started = performance.now();
  await writer.append(s, [{ key: null, value: Buffer.from('x') }]);
  await waited;
  return performance.now() - started;
}

describe('the embedded log on servers sharing a PostgreSQL database', () => {
  it('wakes a reader on one server when another appends to its partition, not for other partitions', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const a = await server(url);
    const b = await server(url);
    const s = await newStream(a.log, 'shared', 2);

    // Partition 1's reader on A sleeps through an append to partition 0 on B; partition 0's reader wakes.
    const ac = new AbortController();
    let woken1 = false;
    const waiting1 = a.log.waitForAppend(s.id, 1, 30_000, ac.signal).then(() => {
      woken1 = true;
    });
    const waiting0 = a.log.waitForAppend(s.id, 0, 30_000, ac.signal);
    expect(await b.log.append(s, [{ value: Buffer.from('p0') }])).toEqual([{ partition: 0, offset: 0 }]);
    await waiting0;
    // Notifications arrive in commit order on A's one listening connection: had p0's woken partition 1, it would have.
    await Promise.resolve();
    expect(woken1).toBe(false);
    expect(await b.log.append(s, [{ value: Buffer.from('p1') }])).toEqual([{ partition: 1, offset: 0 }]);
    await waiting1;

    // The wake-up is the append's commit reaching the other server: well under the readers' 5 s idle poll.
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await wakeMs(a.log, b.log, s, i % 2 === 0 ? 0 : 1));
    times.sort((x, y) => x - y);
    const p50 = times[Math.floor(times.length / 2)] as number;
    console.log(`cross-server wake-up after append: p50 ${p50.toFixed(1)} ms, max ${(times[times.length - 1] as number).toFixed(1)} ms`);
    expect(p50).toBeLessThan(1000);
  });

  it('wakes its readers when its listening connection comes back, for appends it missed while it was down', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const a = await server(url);
    const b = await server(url);
    const s = await newStream(b.log, 'missed', 1);
    const ac = new AbortController();
    const started = Date.now();
    const waiting = a.log.waitForAppend(s.id, 0, 30_000, ac.signal);
    // A's listening connection is cut (A opened first: its listening session is the older one); once A has seen it go,
    // B appends, so A gets no notification for it.
    const { rows } = await b.store.pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity
      WHERE application_name = 'fnts-listen' AND datname = current_database() ORDER BY backend_start LIMIT 1`);
    await b.store.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    await until(() => !a.store.listener.listening);
    await b.log.append(s, [{ value: Buffer.from('while a was away') }]);
    await waiting;
    // A listens again after about a second and wakes everyone then: not the 30 s timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(a.store.listener.listening).toBe(true);
  });

  it('commits under a partition lease only while the lease check, in the same transaction, says it holds', async () => {
    const url = await createDatabase(inject('postgresUrl'));
    const store = await PostgresDatastore.open(url);
    // A stand-in lease table: the real one comes with partition ownership; the log only runs the check it is given.
    await store.pool.query('CREATE TABLE test_leases (group_id TEXT, partition INT, owner TEXT, epoch INT, PRIMARY KEY (group_id, partition))');
    await store.pool.query(`INSERT INTO test_leases VALUES ('g', 0, 'server-a', 7)`);
    const leaseCheck: PostgresLeaseCheck = async (c, position, lease) => (await c.query(
      'SELECT 1 FROM test_leases WHERE group_id = $1 AND partition = $2 AND owner = $3 AND epoch = $4 FOR SHARE',
      [position.group, position.partition, lease.owner, lease.epoch])).rowCount === 1;
    const log = openedLog(store, await PostgresStreamLog.open(store, { leaseCheck }));
    const s = await newStream(log, 'leased', 1);
    const dlq = await newStream(log, 'leased.dlq', 1);
    const at = (offset: number) => ({ group: 'g', streamId: s.id, partition: 0, offset });
    const held = { isCurrent: () => true, lease: { owner: 'server-a', epoch: 7 } };
    const taken = { isCurrent: () => true, lease: { owner: 'server-a', epoch: 6 } };

    expect(await log.commitOffset(at(3), held)).toBe(true);
    expect(await log.commitOffset(at(4), taken)).toBe(false);
    expect(await log.deadLetterAndCommit(dlq, [{ value: Buffer.from('late') }], at(5), taken)).toBe(false);
    expect(await log.getGroupOffsets('g', s.id)).toEqual(new Map([[0, 3]]));
    expect(await log.bounds(dlq.id)).toEqual([{ partition: 0, start: 0, end: 0 }]);
    expect(await log.deadLetterAndCommit(dlq, [{ value: Buffer.from('mine') }], at(5), held)).toBe(true);
    expect(await log.getGroupOffsets('g', s.id)).toEqual(new Map([[0, 5]]));

    // A log opened without a check refuses a leased commit rather than letting it through unchecked.
    const other = await PostgresDatastore.open(url);
    const unchecked = openedLog(other, await PostgresStreamLog.open(other));
    await expect(unchecked.commitOffset(at(9), held)).rejects.toThrow(/without a lease check/);
    expect(await log.getGroupOffsets('g', s.id)).toEqual(new Map([[0, 5]]));
  });
});

/** Polls (bounded) until `ok` holds. */
async function until(ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
