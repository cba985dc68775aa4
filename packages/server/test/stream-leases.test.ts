import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../../test/support/postgres.js';
import { PostgresDatastore } from '../src/store/postgres.js';
import { PostgresListener } from '../src/store/postgres-listen.js';
import { fenceHolds, PostgresLeaseCoordinator, type LeaseChange } from '../src/streams/leases/postgres-leases.js';

/**
 * Partition leases on a real PostgreSQL database: several coordinators (each with its own pool, as separate servers
 * have) spreading one trigger's partitions, handing over, taking over a dead one's, and the fence a commit checks.
 */
const log = pino({ level: 'silent' });
const TTL_MS = 600;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A database migrated by the store, so the lease tables exist. */
async function database(): Promise<string> {
  const url = await createDatabase(inject('postgresUrl'));
  const store = await PostgresDatastore.open(url);
  await store.close();
  return url;
}

interface Server {
  coordinator: PostgresLeaseCoordinator;
  pool: pg.Pool;
  /** Partition → epoch, as the listener was told. */
  running: Map<number, number>;
  changes: LeaseChange[];
}

async function server(url: string, id: string): Promise<Server> {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => undefined);
  const listener = new PostgresListener({ connectionString: url });
  await listener.start();
  const coordinator = new PostgresLeaseCoordinator(pool, listener, id, { ttlMs: TTL_MS }, log);
  const s: Server = { coordinator, pool, running: new Map(), changes: [] };
  cleanups.push(async () => {
    await coordinator.stop();
    await listener.close();
    await pool.end();
  });
  await coordinator.start();
  return s;
}

async function join(s: Server, triggerId: string, partitions: number): Promise<void> {
  await s.coordinator.join(triggerId, partitions, async (change) => {
    s.changes.push(change);
    for (const p of change.lost) s.running.delete(p);
    for (const w of change.won) s.running.set(w.partition, w.epoch);
  });
}

/** Polls (bounded) until `check` holds. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sorted = (m: Map<number, number>) => [...m.keys()].sort((a, b) => a - b);

describe('partition leases on PostgreSQL', () => {
  it('spread a trigger\'s partitions over the live servers, handing over drained, never two owners at once', async () => {
    const url = await database();
    const a = await server(url, 'server-a');
    await join(a, 't1', 4);
    await until(() => a.running.size === 4, 'a to hold all four');
    const b = await server(url, 'server-b');
    await join(b, 't1', 4);
    await until(() => a.running.size === 2 && b.running.size === 2, 'two each');
    expect(sorted(a.running)).toEqual([0, 1]);
    expect(sorted(b.running)).toEqual([2, 3]);
    // The hand-over was announced as one to drain, and B's epochs are above A's.
    expect(a.changes.some((c) => c.drain && c.lost.length === 2)).toBe(true);
    for (const epoch of b.running.values()) expect(epoch).toBe(2); // A took it at 1, B at 2
    const rows = await a.coordinator.rows('t1');
    expect(rows.map((r) => r.owner)).toEqual(['server-a', 'server-a', 'server-b', 'server-b']);
    // A third server: ceil(4 / 3) = 2, so nobody gives anything up and the third waits.
    const c = await server(url, 'server-c');
    await join(c, 't1', 4);
    await new Promise((r) => setTimeout(r, TTL_MS));
    expect(a.running.size + b.running.size + c.running.size).toBe(4);
    expect(c.running.size).toBe(0);
  });

  it('take over a dead server\'s partitions once its leases expire, and refuse its commits from then on; a server cut off stops them itself', async () => {
    const url = await database();
    const a = await server(url, 'server-a');
    await join(a, 't2', 2);
    await until(() => a.running.size === 2, 'a to hold both');
    const b = await server(url, 'server-b');
    await join(b, 't2', 2);
    await until(() => a.running.size === 1 && b.running.size === 1, 'one each');
    const aHeld = [...a.running][0] as [number, number];
    const fenceOfA = { triggerId: 't2', partition: aHeld[0], owner: 'server-a', epoch: aHeld[1] };
    expect(await fenceHolds(b.pool, fenceOfA)).toBe(true);
    // A dies without a word: its pool goes away, its renewals fail from now on.
    const died = Date.now();
    await a.pool.end();
    await until(() => b.running.size === 2, 'b to take over', 5000);
    const tookMs = Date.now() - died;
    expect(tookMs).toBeLessThan(TTL_MS * 2 + 500);
    expect(b.running.get(aHeld[0])).toBe(aHeld[1] + 1);
    expect(await fenceHolds(b.pool, fenceOfA)).toBe(false);
    expect(await fenceHolds(b.pool, { ...fenceOfA, owner: 'server-b', epoch: aHeld[1] + 1 })).toBe(true);
    // A, cut off from the database for longer than a lease lasts, stopped its partition on its own.
    await until(() => a.running.size === 0, 'a to stop its partition', 3000);
  });

  it('restart a partition on its owner when its epoch is raised (a seek made through another server)', async () => {
    const url = await database();
    const a = await server(url, 'server-a');
    await join(a, 't3', 1);
    await until(() => a.running.size === 1, 'a to hold it');
    const before = a.running.get(0) as number;
    await a.coordinator.bumpEpochs('t3');
    await a.coordinator.announce();
    await until(() => a.running.get(0) === before + 1, 'the new epoch', 3000);
    expect(a.changes.map((c) => ({ lost: c.lost, won: c.won.map((w) => w.partition) }))).toEqual([
      { lost: [], won: [0] }, { lost: [0], won: [] }, { lost: [], won: [0] },
    ]);
  });

  it('hand everything over at once when a server leaves', async () => {
    const url = await database();
    const a = await server(url, 'server-a');
    const b = await server(url, 'server-b');
    await join(a, 't4', 4);
    await join(b, 't4', 4);
    await until(() => a.running.size === 2 && b.running.size === 2, 'two each');
    const left = Date.now();
    await a.coordinator.leave('t4', true);
    await a.coordinator.stop();
    await until(() => b.running.size === 4, 'b to hold all four', 5000);
    // Released leases are taken at the announcement, well before they would have expired.
    expect(Date.now() - left).toBeLessThan(TTL_MS);
  });
});
