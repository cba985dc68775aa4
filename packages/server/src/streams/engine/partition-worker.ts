import type { Logger } from 'pino';
import type { DeadLetter } from './dead-letters.js';
import { matchesFilter } from './filter.js';
import { batchId, parseBatchResponse, type BatchEventInput, type BatchRange } from './event.js';
import { backoffMs, type StreamTriggerOptions } from './options.js';
import { RefusedMoveError, transition, type PartitionState } from './partition-state.js';
import type { Semaphore } from './semaphore.js';
import { interruptibleSleep } from './sleep.js';
import type { CommitAfterLetters, CommitFence, SourceRecord, StreamSource } from './source.js';

/** The outcome of one batch call, classified as STREAMS.md §5 asks. */
export type InvokeOutcome =
  | { kind: 'ok'; body: string }
  /** The platform could not run it (pool full, container cannot start): retry without spending attempts. */
  | { kind: 'throttled'; error: string }
  /** The function failed or timed out. */
  | { kind: 'failed'; error: string; status: number }
  /** The encoded batch is larger than a call may carry. */
  | { kind: 'too_large'; error: string };

/** What a partition worker needs from its trigger runner. */
export interface WorkerDeps {
  triggerId: string;
  triggerName: string;
  source: StreamSource;
  options(): StreamTriggerOptions;
  semaphore: Semaphore;
  invoke(batch: BatchEventInput, signal: AbortSignal): Promise<InvokeOutcome>;
  /**
   * Writes dead letters and commits past them (one transaction on the embedded log); throws when it cannot write (the
   * partition then blocks), false when the fence refused the commit.
   */
  deadLetter(letters: DeadLetter[], commit: CommitAfterLetters): Promise<boolean>;
  onBatch(outcome: 'ok' | 'partial' | 'failed' | 'throttled' | 'dead_lettered' | 'fenced' | 'filtered', records: number): void;
  /** Already bound to this partition (`{ partition }`): lines must not name it again, or it appears twice in the JSON. */
  log: Logger;
}

const IDLE_POLL_MS = 5000;
/** How long a successful batch's commit may wait to be written with the next ones' (commitBehind). */
export const COMMIT_BEHIND_MS = 5;
const THROTTLE_MAX_MS = 30_000;

/**
 * Consumes one partition: one batch in flight, in offset order, commit after success (fenced by an epoch
 * that pause, seek and stop advance), bisect and dead-letter to isolate a poison record.
 */
export class PartitionWorker {
  private current: PartitionState = { kind: 'IDLE' };
  /** Next offset to read, as committed. */
  committed = 0;
  inFlight: (BatchRange & { id: string; attempt: number }) | undefined;
  lastError: string | undefined;
  lastSuccessAt: string | undefined;
  deadLettered = 0;
  private epoch = 0;
  /** Failed attempts of the record at the head (the committed offset). */
  private headAttempts = 0;
  private throttles = 0;
  /** After a failure with bisect on, the next batch is cut to this window. */
  private window: { first: number; last: number } | undefined;
  private nudger = new AbortController();
  /** A wait decided while delivering, taken after the concurrency slot is released. */
  private backoff = 0;
  private blocked: DeadLetter[] | undefined;
  /** Moves made by seek(): a commit accepted before one must not be written after it. */
  private seeks = 0;
  /** Successful batches' commit not yet written (commitBehind), and the write of one while it runs. */
  private behind: { offset: number; seeks: number; stored: Array<() => void>; timer: NodeJS.Timeout } | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    readonly partition: number,
    private readonly deps: WorkerDeps,
    private readonly stop: AbortSignal,
  ) {}

  get state(): PartitionState {
    return this.current;
  }

  /** Every change of state goes through the table of allowed moves (partition-state.ts). */
  private moveTo(next: PartitionState): void {
    const from = this.current.kind;
    this.current = transition(this.current, next);
    if (from !== next.kind) this.deps.log.debug({ from, to: next.kind }, 'partition state');
  }

  /** Wakes the loop to re-read its situation (pause, resume, seek). */
  nudge(): void {
    this.nudger.abort();
    this.nudger = new AbortController();
  }

  /** Invalidates any batch in flight: its commit will be discarded. */
  fence(): void {
    this.epoch++;
    this.nudge();
  }

  /**
   * What a commit made for a batch read at `epoch` is checked against, inside the commit's transaction: the epoch is
   * still current (no pause, seek or stop since). The partition's lease goes here too once servers share partitions.
   */
  private fenceFor(epoch: number): CommitFence {
    return { isCurrent: () => epoch === this.epoch };
  }

  /** Moves the read position (the trigger is paused); resets the retry state. */
  async seek(offset: number): Promise<void> {
    this.seeks++;
    await this.written();
    this.fence();
    this.committed = offset;
    this.headAttempts = 0;
    this.window = undefined;
    this.blocked = undefined;
    await this.deps.source.commit(this.partition, offset);
  }

  /**
   * A partial batch was in flight, from the committed offset to `last`, when the partition last ran (a crash, a
   * takeover): it is formed again exactly, so it keeps its id (STREAMS.md §4). Stale (already committed): ignored.
   */
  resumeInFlight(last: number): void {
    if (last >= this.committed) this.window = { first: this.committed, last };
  }

  /** A resume also retries a blocked dead-letter write. */
  unblock(): void {
    if (this.state.kind === 'BLOCKED') this.moveTo({ kind: 'IDLE' });
    this.nudge();
  }

  async run(): Promise<void> {
    while (!this.stop.aborted) {
      try {
        await this.step();
      } catch (err) {
        if (err instanceof RefusedMoveError) {
          this.lastError = err.message;
          this.deps.log.error({ err, state: this.state.kind }, 'partition state move refused');
        } else {
          // A source error (not a function error): report it and try again shortly.
          this.lastError = `source error: ${(err as Error).message}`;
          this.deps.log.error({ err }, 'stream source error');
        }
        await interruptibleSleep(1000, [this.stop, this.nudger.signal]);
      }
    }
    // A stop (shutdown, a drained handover) writes the commits kept behind before the worker is gone.
    await this.written();
  }

  private async step(): Promise<void> {
    const opts = this.deps.options();
    // Taken now, so that a nudge at any point of this step (while a commit is written before a wait, say) cuts the
    // wait short.
    const nudged = this.nudger.signal;
    if (opts.paused) {
      await this.written();
      this.moveTo({ kind: 'PAUSED' });
      await interruptibleSleep(IDLE_POLL_MS, [this.stop, nudged]);
      return;
    }
    if (this.blocked) {
      await this.written();
      if (this.state.kind !== 'BLOCKED') await this.writeDeadLetters(this.blocked, this.epoch);
      else await interruptibleSleep(IDLE_POLL_MS, [this.stop, nudged]);
      return;
    }
    if (this.state.kind === 'PAUSED') this.moveTo({ kind: 'IDLE' });
    const epoch = this.epoch;
    let records = await this.deps.source.fetch(this.partition, this.committed, opts.batch_size, opts.max_batch_bytes);
    if (records.length === 0) {
      await this.written();
      if (this.state.kind === 'RUNNING') this.moveTo({ kind: 'IDLE' });
      await this.deps.source.waitForData(this.partition, this.committed, IDLE_POLL_MS, anySignal(this.stop, nudged));
      return;
    }
    if (opts.max_wait_ms > 0 && records.length < opts.batch_size && !this.window) {
      records = await this.fillBatch(records, opts);
    }
    // Retention may have removed records below the committed offset: move on from what exists.
    const first = records[0] as SourceRecord;
    if (first.offset > this.committed) this.committed = first.offset;
    if (this.window && this.window.first === first.offset) records = records.filter((r) => r.offset <= (this.window as { last: number }).last);
    else this.window = undefined;

    if (opts.max_record_age_ms > 0) {
      // Records at the head that are too old go to the dead-letter stream without a call (STREAMS.md §5).
      const now = Date.now();
      const expired: SourceRecord[] = [];
      for (const r of records) {
        if (now - r.timestamp <= opts.max_record_age_ms) break;
        expired.push(r);
      }
      if (expired.length > 0) {
        const error = `older than max_record_age_ms (${opts.max_record_age_ms})`;
        await this.writeDeadLetters(expired.map((record) => ({ record, attempts: 0, error, status: 0 })), epoch);
        return;
      }
    }

    let skipped = 0;
    const last = records[records.length - 1] as SourceRecord;
    if (opts.filter) {
      const filter = opts.filter;
      const kept = records.filter((r) => matchesFilter(r, filter));
      // Filtered records at the head are done: commit past them without a call, so a batch starts with a record to send.
      const head = kept.length === 0 ? records.length : records.findIndex((r) => r === kept[0]);
      if (head > 0) {
        if (await this.commit(kept.length === 0 ? last.offset + 1 : (kept[0] as SourceRecord).offset, epoch)) this.deps.onBatch('filtered', head);
        return;
      }
      skipped = records.length - kept.length;
      records = kept;
    }

    if (!(await this.deps.semaphore.acquire(this.stop))) return;
    try {
      await this.deliver(records, epoch, opts, last.offset, skipped);
    } finally {
      this.deps.semaphore.release();
    }
    // Back off without holding a concurrency slot, so the trigger's other partitions keep moving.
    const wait = this.backoff;
    this.backoff = 0;
    if (wait > 0) {
      await this.written();
      await interruptibleSleep(wait, [this.stop, nudged]);
    }
  }

  /** Waits up to max_wait_ms for the batch to fill. */
  private async fillBatch(records: SourceRecord[], opts: StreamTriggerOptions): Promise<SourceRecord[]> {
    const until = Date.now() + opts.max_wait_ms;
    let current = records;
    while (current.length < opts.batch_size && Date.now() < until && !this.stop.aborted) {
      const next = (current[current.length - 1] as SourceRecord).offset + 1;
      await this.deps.source.waitForData(this.partition, next, until - Date.now(), this.stop);
      current = await this.deps.source.fetch(this.partition, this.committed, opts.batch_size, opts.max_batch_bytes);
    }
    return current;
  }

  /** One call for `records` (the filter's survivors); the range runs to `lastOffset`, past trailing filtered ones. */
  private async deliver(records: SourceRecord[], epoch: number, opts: StreamTriggerOptions, lastOffset: number, skipped: number): Promise<void> {
    const range: BatchRange = { partition: this.partition, first: (records[0] as SourceRecord).offset, last: lastOffset };
    const id = batchId(this.deps.triggerId, range);
    const attempt = this.headAttempts + 1;
    if (this.deps.source.markInFlight && range.last - range.first + 1 < opts.batch_size && !this.window) {
      // A partial batch (the partition caught up) could be formed with more records by whoever runs the partition
      // after a crash: its range is stored first, after the commits before it, so that it comes again with its id.
      await this.written();
      if (!(await this.deps.source.markInFlight(this.partition, range.last, this.fenceFor(epoch)))) {
        this.fenced(range.first);
        return;
      }
    }
    this.inFlight = { ...range, id, attempt };
    this.moveTo({ kind: 'RUNNING' });
    const outcome = await this.deps.invoke(
      {
        sourceType: this.deps.source.type, stream: this.deps.source.name, range, id, attempt,
        trigger: { id: this.deps.triggerId, name: this.deps.triggerName }, encoding: opts.value_encoding, records,
      },
      this.stop,
    );
    this.inFlight = undefined;
    // Stopping (shutdown, trigger deleted) aborts the call: that is not the function's failure.
    if (this.stop.aborted) return;
    if (epoch !== this.epoch) {
      this.deps.onBatch('fenced', records.length);
      this.deps.log.info({ batch: id }, 'batch finished after a pause or seek: its commit is discarded');
      return;
    }
    if (outcome.kind === 'throttled') return this.throttled(outcome.error);
    if (outcome.kind === 'too_large') return this.tooLarge(records, outcome.error, epoch);
    this.throttles = 0;
    if (outcome.kind === 'ok') {
      const response = parseBatchResponse(outcome.body, range);
      if (response.kind === 'success') {
        // Counted as done once its commit is stored: a refused one (the lease moved meanwhile) is counted as fenced.
        this.commitBehind(range.last + 1, () => {
          this.deps.onBatch('ok', records.length);
          if (skipped > 0) this.deps.onBatch('filtered', skipped);
        });
        return;
      }
      if (response.kind === 'partial') {
        this.deps.onBatch('partial', response.lowest - range.first);
        if (response.lowest > range.first) {
          if (!(await this.commit(response.lowest, epoch))) return;
          this.headAttempts = 1; // the new head has failed once already
        } else {
          this.headAttempts++;
        }
        this.window = { first: response.lowest, last: response.lowest };
        return this.afterFailure(records.filter((r) => r.offset >= response.lowest), response.error, 200, opts, false);
      }
      return this.failed(records, `malformed partial response: ${response.reason}`, 200, opts);
    }
    return this.failed(records, outcome.error, outcome.status, opts);
  }

  /** A whole-batch failure: bisect the range, or spend an attempt on it. */
  private async failed(records: SourceRecord[], error: string, status: number, opts: StreamTriggerOptions): Promise<void> {
    this.deps.onBatch('failed', records.length);
    const first = records[0] as SourceRecord;
    if (opts.bisect_on_error && records.length > 1) {
      const half = records[Math.ceil(records.length / 2) - 1] as SourceRecord;
      this.window = { first: first.offset, last: half.offset };
      this.lastError = error;
      this.deps.log.info({ first: first.offset, last: half.offset, error }, 'batch failed: bisecting');
      return;
    }
    this.headAttempts++;
    return this.afterFailure(records, error, status, opts, true);
  }

  private async afterFailure(records: SourceRecord[], error: string, status: number, opts: StreamTriggerOptions, wholeRange: boolean): Promise<void> {
    this.lastError = error;
    if (this.headAttempts >= opts.max_attempts) {
      // Attempts exhausted: dead-letter the head record (or, without bisecting, the whole range) and go on.
      const poison = wholeRange && !opts.bisect_on_error ? records : records.slice(0, 1);
      await this.writeDeadLetters(poison.map((record) => ({ record, attempts: this.headAttempts, error, status })), this.epoch);
      return;
    }
    const wait = backoffMs(opts, this.headAttempts);
    this.moveTo({ kind: 'RETRYING', attempt: this.headAttempts, nextAt: new Date(Date.now() + wait).toISOString(), lastError: error, throttled: false });
    this.deps.log.info({ attempt: this.headAttempts, wait_ms: wait, error }, 'batch failed: retrying');
    this.backoff = wait;
  }

  /** The encoded batch exceeds the invoke body limit: split it (no attempt spent); a lone record cannot be sent at all. */
  private async tooLarge(records: SourceRecord[], error: string, epoch: number): Promise<void> {
    if (records.length > 1) {
      const first = records[0] as SourceRecord;
      this.window = { first: first.offset, last: (records[Math.ceil(records.length / 2) - 1] as SourceRecord).offset };
      return;
    }
    await this.writeDeadLetters(records.map((record) => ({ record, attempts: 0, error, status: 413 })), epoch);
  }

  private async throttled(error: string): Promise<void> {
    this.deps.onBatch('throttled', 0);
    this.throttles++;
    const wait = Math.min(THROTTLE_MAX_MS, 100 * 2 ** Math.min(this.throttles, 10));
    this.lastError = error;
    this.moveTo({ kind: 'RETRYING', attempt: this.headAttempts, nextAt: new Date(Date.now() + wait).toISOString(), lastError: error, throttled: true });
    this.backoff = wait;
  }

  /** Dead letters and the commit past them, in one write; the partition blocks (visibly) when it fails. */
  private async writeDeadLetters(letters: DeadLetter[], epoch: number): Promise<void> {
    if (letters.length === 0) return;
    await this.written();
    if (epoch !== this.epoch) return; // fenced: a pause or seek happened meanwhile
    const next = (letters[letters.length - 1] as DeadLetter).record.offset + 1;
    let committed: boolean;
    try {
      committed = await this.deps.deadLetter(letters, { partition: this.partition, offset: next, fence: this.fenceFor(epoch) });
    } catch (err) {
      // Never drop: the partition stops here, visibly, until the dead-letter stream works again (resume retries).
      this.blocked = letters;
      const reason = `dead-letter write failed: ${(err as Error).message}`;
      this.moveTo({ kind: 'BLOCKED', reason });
      this.lastError = reason;
      this.deps.log.error({ reason }, 'partition blocked');
      return;
    }
    this.blocked = undefined;
    if (!committed) return this.fenced(next);
    this.deadLettered += letters.length;
    this.deps.onBatch('dead_lettered', letters.length);
    this.deps.log.warn({ offsets: letters.map((l) => l.record.offset) }, 'records dead-lettered');
    this.committedAt(next);
  }

  /** True when committed; false when fenced (a pause, seek or stop here, or the lease moved to another server). */
  private async commit(offset: number, epoch: number): Promise<boolean> {
    await this.written();
    if (epoch !== this.epoch) return false; // fenced: a pause or seek happened meanwhile
    if (!(await this.deps.source.commit(this.partition, offset, this.fenceFor(epoch)))) {
      this.fenced(offset);
      return false;
    }
    this.committedAt(offset);
    return true;
  }

  /** A commit the fence refused (a pause, seek or stop while it was written): the position stays where it was. */
  private fenced(offset: number): void {
    this.deps.onBatch('fenced', 0);
    this.deps.log.info({ offset }, 'commit refused by its fence: discarded');
  }

  /**
   * The commit after a successful batch, written behind: the worker moves on to the next batch at once, and the write
   * happens up to COMMIT_BEHIND_MS later, taking in the commits of the batches that succeeded meanwhile (only the last
   * offset is written). At batch_size 1 one write per record was a tenth of a record's cost, and the function waited
   * for it. Commits stay in order: every other write, every wait (caught up, paused, backing off, blocked) and the
   * worker's end write it first. A crash redelivers the batches whose commit was not written yet (at-least-once, with
   * their ids), as it always redelivered the batch in flight. The batches succeeded under the current epoch, so a pause
   * or a drain that fences the partition after that does not discard their commit; a seek does. `stored` runs once the
   * commit is stored; a refused write (the lease moved) counts as fenced; a failed one is reported, and the next commit
   * covers it.
   */
  private commitBehind(offset: number, stored: () => void): void {
    const behind = this.behind;
    if (behind && behind.seeks === this.seeks) {
      behind.offset = offset;
      behind.stored.push(stored);
    } else {
      const timer = setTimeout(() => void this.writeBehind(), COMMIT_BEHIND_MS);
      this.behind = { offset, seeks: this.seeks, stored: [stored], timer };
    }
    this.committedAt(offset);
  }

  /** Writes the commit kept behind now (after a write still running); resolves once it is stored or refused. */
  private async writeBehind(): Promise<void> {
    while (this.writing) await this.writing;
    const behind = this.behind;
    if (!behind) return;
    this.behind = undefined;
    clearTimeout(behind.timer);
    const write = (async () => {
      if (behind.seeks !== this.seeks) return;
      try {
        if (await this.deps.source.commit(this.partition, behind.offset, { isCurrent: () => behind.seeks === this.seeks })) {
          for (const stored of behind.stored) stored();
        } else {
          this.fenced(behind.offset);
        }
      } catch (err) {
        this.lastError = `source error: ${(err as Error).message}`;
        this.deps.log.error({ err, offset: behind.offset }, 'offset commit failed');
      }
    })();
    this.writing = write;
    try {
      await write;
    } finally {
      if (this.writing === write) this.writing = undefined;
    }
  }

  /** Waits until every commit kept behind is written. */
  private async written(): Promise<void> {
    while (this.writing || this.behind) await this.writeBehind();
  }

  private committedAt(offset: number): void {
    this.committed = offset;
    if (this.window && offset > this.window.last) this.window = undefined;
    this.headAttempts = 0;
    this.lastSuccessAt = new Date().toISOString();
    if (this.state.kind !== 'PAUSED') this.moveTo({ kind: 'IDLE' });
  }
}

function anySignal(...signals: AbortSignal[]): AbortSignal {
  return AbortSignal.any(signals);
}
