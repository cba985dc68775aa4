import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StreamInfo, StreamLog } from '../src/streams/embedded/log.js';
import { SqliteStreamLog } from '../src/streams/embedded/sqlite-log.js';
import { EmbeddedSource } from '../src/streams/embedded/source.js';
import { deadLetterHeaders, type DeadLetter } from '../src/streams/engine/dead-letters.js';
import type { BatchEventInput } from '../src/streams/engine/event.js';
import { compileOptions, type StreamTriggerOptions } from '../src/streams/engine/options.js';
import { canMove, type PartitionStateKind } from '../src/streams/engine/partition-state.js';
import { PartitionWorker, type InvokeOutcome } from '../src/streams/engine/partition-worker.js';
import { Semaphore } from '../src/streams/engine/semaphore.js';
import { SqliteDatastore } from '../src/store/sqlite.js';
import { duplicateTopLevelKeys } from './support/log-lines.js';

/**
 * One partition worker on the real embedded log (a SQLite file), with a function stand-in that fails the record
 * whose value is "poison": every state change it makes is one the table allows, in the order the scenario implies;
 * dead letters and their redrive go through the one redrive loop.
 */

const TRIGGER = 'trigger-1';
const v = (s: string) => Buffer.from(s);

interface Move {
  from: PartitionStateKind;
  to: PartitionStateKind;
}

/** The worker's logged moves, with a wait for the next move to a state. */
class MoveLog {
  readonly moves: Move[] = [];
  readonly refused: string[] = [];
  /** Lines that name a key twice. */
  readonly duplicated: string[] = [];
  private readonly events = new EventEmitter();

  write(line: string): void {
    if (duplicateTopLevelKeys(line).length > 0) this.duplicated.push(line);
    const entry = JSON.parse(line) as { msg: string; from?: PartitionStateKind; to?: PartitionStateKind; err?: { message: string } };
    if (entry.msg === 'partition state' && entry.from && entry.to) {
      this.moves.push({ from: entry.from, to: entry.to });
      this.events.emit(entry.to);
    }
    if (entry.msg === 'partition state move refused') this.refused.push(entry.err?.message ?? line);
  }

  /** Resolves at the `n`th move to `kind` counted from the start (bounded by the test timeout). */
  reach(kind: PartitionStateKind, n = 1): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.moves.filter((m) => m.to === kind).length < n) return;
        this.events.off(kind, check);
        resolve();
      };
      this.events.on(kind, check);
      check();
    });
  }
}

describe('partition worker', () => {
  let dir: string;
  let store: SqliteDatastore;
  let log: StreamLog;

  const stream = (name: string): Promise<StreamInfo> => {
    const now = new Date().toISOString();
    return log.createStream({ id: `id-${name}`, name, partitions: 1, retention_ms: 3_600_000, created_at: now, updated_at: now });
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fnts-partition-worker-'));
    store = new SqliteDatastore(join(dir, 'fnts.db'));
    log = new SqliteStreamLog(store.db);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves only as the table allows: a poison record retried, blocked on a missing dead-letter stream, unblocked, then paused', async () => {
    const orders = await stream('orders');
    await log.append(orders, [{ value: v('r0') }, { value: v('poison') }, { value: v('r2') }]);
    const source = new EmbeddedSource(log, orders, TRIGGER);
    let opts: StreamTriggerOptions = compileOptions(
      { max_attempts: 2, backoff_initial_ms: 1, backoff_max_ms: 1, value_encoding: 'utf8' },
      undefined,
      { deadLetterStream: 'orders.dlq', maxBatchBytes: 1024 * 1024 },
    );
    const calls: { first: number; last: number; attempt: number }[] = [];
    const invoke = async (batch: BatchEventInput): Promise<InvokeOutcome> => {
      calls.push({ first: batch.range.first, last: batch.range.last, attempt: batch.attempt });
      const poison = batch.records.find((r) => r.value.toString() === 'poison');
      return { kind: 'ok', body: JSON.stringify({ failures: poison ? [{ offset: poison.offset, error: 'poison' }] : [] }) };
    };
    const origin = { stream: 'orders', sourceType: 'embedded' as const, trigger: { id: TRIGGER, name: 'consume', fnId: 'fn-1' }, fnImage: 'img' };
    const moves = new MoveLog();
    const stop = new AbortController();
    const worker = new PartitionWorker(0, {
      triggerId: TRIGGER,
      triggerName: 'consume',
      source,
      options: () => opts,
      semaphore: new Semaphore(1),
      invoke,
      deadLetter: (letters: DeadLetter[], commit) =>
        source.writeDeadLetters(opts.dead_letter_stream, letters.map((l) => ({ record: l.record, headers: deadLetterHeaders(l, origin) })), commit),
      onBatch: () => undefined,
      // Bound as the trigger runner binds it.
      log: pino({ level: 'debug' }, moves).child({ partition: 0 }),
    }, stop.signal);
    const running = worker.run();

    // The poison's second attempt cannot be dead-lettered: the stream does not exist yet.
    await moves.reach('BLOCKED');
    expect(worker.state).toMatchObject({ kind: 'BLOCKED', reason: expect.stringMatching(/dead-letter stream "orders.dlq" does not exist/) });
    expect(worker.committed).toBe(1);
    await stream('orders.dlq');
    worker.unblock();
    await moves.reach('IDLE', 3);
    expect(worker.committed).toBe(3);

    opts = { ...opts, paused: true };
    worker.fence();
    await moves.reach('PAUSED');
    stop.abort();
    await running;

    expect(moves.refused).toEqual([]);
    expect(moves.duplicated).toEqual([]);
    expect(moves.moves.every((m) => canMove(m.from, m.to))).toBe(true);
    expect(moves.moves.map((m) => `${m.from}>${m.to}`)).toEqual([
      'IDLE>RUNNING', // 0..2
      'RUNNING>IDLE', // 0 committed: the poison at 1 failed
      'IDLE>RETRYING', // backing off before the poison's second attempt
      'RETRYING>RUNNING', // 1..1, attempt 2
      'RUNNING>BLOCKED', // attempts spent, the dead-letter write fails
      'BLOCKED>IDLE', // resumed: the write is retried, and works
      'IDLE>RUNNING', // 2..2
      'RUNNING>IDLE', // committed
      'IDLE>PAUSED',
    ]);
    expect(calls).toEqual([{ first: 0, last: 2, attempt: 1 }, { first: 1, last: 1, attempt: 2 }, { first: 2, last: 2, attempt: 1 }]);
    expect(worker.deadLettered).toBe(1);
  });

  it('redrives only its own dead letters, from where the last redrive stopped, counting what is left at a failure', async () => {
    const dlq = await stream('shared.dlq');
    const source = new EmbeddedSource(log, await stream('orders'), TRIGGER);
    const letter = (trigger: string, offset: number): DeadLetter & { trigger: string } =>
      ({ trigger, record: { partition: 0, offset, timestamp: 1000 + offset, key: null, value: v(`o${offset}`), headers: { h: 'x' } }, attempts: 3, error: 'bad', status: 502 });
    const letters = [letter(TRIGGER, 4), letter('another', 5), letter(TRIGGER, 6), letter(TRIGGER, 7)];
    await log.append(dlq, letters.map((l) => ({
      value: l.record.value,
      headers: { ...l.record.headers, ...deadLetterHeaders(l, { stream: 'orders', sourceType: 'embedded', trigger: { id: l.trigger, name: 't', fnId: 'f' }, fnImage: 'i' }) },
    })));

    const seen: string[] = [];
    let failAt: string | undefined = 'o6';
    const deliver = async (r: { value: Buffer; headers: Record<string, string> }) => {
      seen.push(r.value.toString());
      return r.value.toString() === failAt ? 'still failing' : undefined;
    };
    expect(await source.redriveDeadLetters('shared.dlq', deliver)).toEqual({ redriven: 1, remaining: 2, error: 'still failing' });
    failAt = undefined;
    expect(await source.redriveDeadLetters('shared.dlq', deliver)).toEqual({ redriven: 2, remaining: 0 });
    expect(await source.redriveDeadLetters('shared.dlq', deliver)).toEqual({ redriven: 0, remaining: 0 });
    // The other trigger's letter is never sent; the one that failed is sent again, the one before it is not.
    expect(seen).toEqual(['o4', 'o6', 'o6', 'o7']);
    expect(await source.redriveDeadLetters('missing.dlq', deliver)).toEqual({ redriven: 0, remaining: 0, error: 'dead-letter stream "missing.dlq" does not exist' });
  });

  it('redrives a record dead-lettered twice (same fnts.dlq.id: the server died between letter and commit) once', async () => {
    const dlq = await stream('twice.dlq');
    const source = new EmbeddedSource(log, await stream('orders'), TRIGGER);
    const origin = { stream: 'orders', sourceType: 'embedded' as const, trigger: { id: TRIGGER, name: 't', fnId: 'f' }, fnImage: 'i' };
    const letter = (offset: number, attempts: number): DeadLetter =>
      ({ record: { partition: 0, offset, timestamp: 1000 + offset, key: null, value: v(`o${offset}`), headers: {} }, attempts, error: 'bad', status: 502 });
    // Kafka's case: the letter for offset 3 was produced, the commit never happened, and the retry produced it again.
    await log.append(dlq, [letter(3, 10), letter(3, 10), letter(4, 10)].map((l) => ({ value: l.record.value, headers: deadLetterHeaders(l, origin) })));
    expect((await log.read(dlq.id, 0, 0, 10)).map((m) => m.headers['fnts.dlq.id'])).toEqual(['orders/0/3', 'orders/0/3', 'orders/0/4']);
    const seen: string[] = [];
    let failAt: string | undefined = 'o4';
    const deliver = async (r: { value: Buffer }) => {
      seen.push(r.value.toString());
      return r.value.toString() === failAt ? 'still failing' : undefined;
    };
    expect(await source.redriveDeadLetters('twice.dlq', deliver)).toEqual({ redriven: 1, remaining: 1, error: 'still failing' });
    failAt = undefined;
    expect(await source.redriveDeadLetters('twice.dlq', deliver)).toEqual({ redriven: 1, remaining: 0 });
    expect(seen).toEqual(['o3', 'o4', 'o4']);
  });

  it('writes a backlog\'s commits behind, merged and in order; a pause writes what was kept, a seek drops it, a stop writes it', async () => {
    const orders = await stream('backlog');
    const total = 300;
    await log.append(orders, Array.from({ length: total }, (_, i) => ({ value: v(`r${i}`) })));
    // Every write takes 20 ms, so the batches that succeed meanwhile are merged into the next write.
    const written: number[] = [];
    const source = new EmbeddedSource(log, orders, TRIGGER);
    const commit = source.commit.bind(source);
    source.commit = async (partition, offset, fence) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const ok = await commit(partition, offset, fence);
      if (ok) written.push(offset);
      return ok;
    };
    let opts: StreamTriggerOptions = compileOptions({ batch_size: 1, value_encoding: 'utf8' }, undefined, { deadLetterStream: 'backlog.dlq', maxBatchBytes: 1024 * 1024 });
    const delivered: number[] = [];
    let stored = 0;
    const moves = new MoveLog();
    const stop = new AbortController();
    const worker = new PartitionWorker(0, {
      triggerId: TRIGGER, triggerName: 'consume', source, options: () => opts, semaphore: new Semaphore(1),
      invoke: async (batch) => {
        delivered.push(batch.range.first);
        return { kind: 'ok', body: '' };
      },
      deadLetter: async () => true,
      onBatch: (outcome, records) => void (outcome === 'ok' && (stored += records)),
      log: pino({ level: 'debug' }, moves).child({ partition: 0 }),
    }, stop.signal);
    const running = worker.run();
    const storedOffset = async () => (await source.committed()).get(0);
    // Caught up: the worker writes what it kept before it waits for more.
    while ((await storedOffset()) !== total) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(delivered).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(written.length).toBeLessThan(total / 10);
    expect(written.every((o, i) => i === 0 || o > (written[i - 1] as number))).toBe(true);
    expect(written.at(-1)).toBe(total);
    // Batches count as done once their commit is stored.
    expect(stored).toBe(total);

    // More records, then a pause while their commits are kept: the pause writes them before the partition rests.
    await log.append(orders, Array.from({ length: 50 }, (_, i) => ({ value: v(`s${i}`) })));
    while (delivered.length < total + 10) await new Promise((resolve) => setImmediate(resolve));
    opts = { ...opts, paused: true };
    worker.fence();
    await moves.reach('PAUSED');
    expect(await storedOffset()).toBe(worker.committed);
    // A seek moves the partition; nothing kept from before it is written after it.
    await worker.seek(100);
    expect(await storedOffset()).toBe(100);
    stop.abort();
    await running;
    expect(written.at(-1)).toBe(100);
    expect(await storedOffset()).toBe(100);
    expect(moves.refused).toEqual([]);
  });

  it('stores a partial batch\'s range before its call, so that after a crash it is formed again exactly, with its id', async () => {
    const orders = await stream('partial');
    await log.append(orders, [0, 1, 2].map((i) => ({ value: v(`r${i}`) })));
    const opts = compileOptions({ batch_size: 10, value_encoding: 'utf8' }, undefined, { deadLetterStream: 'partial.dlq', maxBatchBytes: 1024 * 1024 });
    const batches: { server: string; first: number; last: number; id: string }[] = [];
    let begun: () => void = () => undefined;
    const firstBegun = new Promise<void>((resolve) => (begun = resolve));
    const runWorker = (server: string, source: EmbeddedSource, hang: boolean) => {
      const stop = new AbortController();
      const worker = new PartitionWorker(0, {
        triggerId: TRIGGER, triggerName: 'consume', source, options: () => opts, semaphore: new Semaphore(1),
        invoke: async (batch, signal) => {
          batches.push({ server, first: batch.range.first, last: batch.range.last, id: batch.id });
          begun();
          // The first server dies in this call: it never answers (its stop below only ends the test's worker).
          if (hang) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          return hang ? { kind: 'failed', error: 'gone', status: 500 } : { kind: 'ok', body: '' };
        },
        deadLetter: async () => true,
        onBatch: () => undefined,
        log: pino({ level: 'silent' }),
      }, stop.signal);
      return { worker, stop };
    };
    const a = runWorker('a', new EmbeddedSource(log, orders, TRIGGER), true);
    const runningA = a.worker.run();
    await firstBegun;
    // Records arrive while the partial batch 0..2 is in flight; then the server is gone without committing anything.
    await log.append(orders, [3, 4, 5, 6].map((i) => ({ value: v(`r${i}`) })));
    a.stop.abort();
    await runningA;

    // The next owner reads where the partition stands, as the runner does, and forms the cut batch again first.
    const sourceB = new EmbeddedSource(log, orders, TRIGGER);
    expect((await sourceB.committed()).get(0)).toBeUndefined();
    const inFlight = await sourceB.inFlight();
    expect(inFlight.get(0)).toBe(2);
    const b = runWorker('b', sourceB, false);
    b.worker.committed = 0;
    b.worker.resumeInFlight(inFlight.get(0) as number);
    const runningB = b.worker.run();
    while ((await sourceB.committed()).get(0) !== 7) await new Promise((resolve) => setTimeout(resolve, 10));
    b.stop.abort();
    await runningB;
    expect(batches.map(({ server, first, last }) => `${server}:${first}-${last}`)).toEqual(['a:0-2', 'b:0-2', 'b:3-6']);
    expect(batches[1]?.id).toBe(batches[0]?.id);
  });
});
