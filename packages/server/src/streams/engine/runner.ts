import { ERROR_CODE } from '@fnts/api/errors';
import type { Logger } from 'pino';
import { newId } from '../../ids.js';
import type { Agent } from '../../agent/agent.js';
import { errors, isFntsError } from '../../errors.js';
import { fnLabels, type FnLabels, type Metrics } from '../../metrics.js';
import type { Datastore } from '../../store/datastore.js';
import type { Trigger } from '../../store/models.js';
import { isKafkaOptions } from '../kafka/options.js';
import { deadLetterHeaders, redrivenRecord, type DeadLetter } from './dead-letters.js';
import { batchEvent, batchHeaders, batchId, parseBatchResponse, type BatchEventInput } from './event.js';
import type { StreamTriggerOptions } from './options.js';
import { PartitionGate } from './partition-gate.js';
import type { PartitionState } from './partition-state.js';
import { PartitionWorker, type InvokeOutcome } from './partition-worker.js';
import { Semaphore } from './semaphore.js';
import { interruptibleSleep } from './sleep.js';
import type { AssignmentListener, CommitAfterLetters, OffsetBounds, RedriveResult, SourceRecord, StartPosition, StreamSource } from './source.js';

/** Platform conditions that must not spend a batch's retry budget (STREAMS.md §5). */
const THROTTLE_CODES: ReadonlySet<string> = new Set([
  ERROR_CODE.serverBusy, ERROR_CODE.containerInitFailed, ERROR_CODE.containerInitTimeout, ERROR_CODE.imageNotFound,
  ERROR_CODE.imagePullFailed, ERROR_CODE.imagePullTimeout,
]);
/** The most of a batch answer that is read (a partial-failure list, not a payload). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface RunnerDeps {
  agent: Agent;
  /** The invoke body limit, which an encoded batch must fit in. */
  maxRequestBytes: number;
  store: Datastore;
  metrics: Metrics;
  logger: Logger;
  /** At shutdown, partitions are drained for at most this long (the server's grace period). */
  shutdownGraceMs?: number;
}

/** Default drain time of a revoked partition when the options have none. */
const DEFAULT_DRAIN_MS = 10_000;

export interface PartitionStatus {
  partition: number;
  committed: number;
  start: number;
  end: number;
  lag_records: number;
  lag_seconds: number;
  /** UNASSIGNED: another server of the consumer group consumes it (or nobody does yet). */
  state: PartitionState | { kind: 'UNASSIGNED' };
  in_flight: PartitionWorker['inFlight'] | null;
  last_error: string | null;
  last_success_at: string | null;
  dead_lettered: number;
  /** The server holding the partition's lease (embedded streams shared by several servers); absent otherwise. */
  owner?: string | null;
}


interface WorkerSlot {
  worker: PartitionWorker;
  gate: PartitionGate;
  stop: AbortController;
  running: Promise<void>;
}

/**
 * Runs one stream trigger: a worker per partition sharing the trigger's concurrency limit. With a source whose
 * partitions move between servers (Kafka), workers come and go with the group's assignment: a revoked partition is
 * drained (its batch in flight may finish and commit within the drain timeout), then fenced and stopped.
 */
export class TriggerRunner {
  private readonly stopper = new AbortController();
  private readonly workers = new Map<number, WorkerSlot>();
  private semaphore = new Semaphore(1);
  /** The series labels; the app's and function's names are read from the store at start. */
  private labels: FnLabels & { app_id: string; trigger_id: string };
  private readonly logger: Logger;
  private stopping = false;
  private readonly series = new Map<string, FnLabels & { app_id: string; trigger_id: string; outcome: string }>();

  constructor(
    readonly trigger: Trigger,
    private opts: StreamTriggerOptions,
    readonly source: StreamSource,
    private readonly deps: RunnerDeps,
  ) {
    this.labels = { app_id: trigger.app_id, fn_id: trigger.fn_id, app_name: '', fn_name: '', trigger_id: trigger.id };
    this.logger = deps.logger.child({ trigger_id: trigger.id, stream: source.name });
  }

  /** The label set of one outcome's series, one object per outcome (the metrics' tallies key on it). */
  private seriesOf(outcome: string): FnLabels & { app_id: string; trigger_id: string; outcome: string } {
    let labels = this.series.get(outcome);
    if (!labels) this.series.set(outcome, (labels = { ...this.labels, outcome }));
    return labels;
  }

  get options(): StreamTriggerOptions {
    return this.opts;
  }

  /** Whether partitions come from a consumer group rather than all being consumed here. */
  private get grouped(): boolean {
    return this.source.onAssignment !== undefined;
  }

  async start(): Promise<void> {
    const fn = await this.deps.store.getFnById(this.trigger.fn_id);
    const app = fn && (await this.deps.store.getAppById(fn.app_id));
    if (fn && app) this.labels = { ...this.labels, ...fnLabels(app, fn) };
    this.series.clear();
    this.semaphore = new Semaphore(this.opts.max_concurrency);
    if (this.source.onAssignment) {
      this.source.onAssignment((change) => this.rebalance(change));
      await this.source.start?.();
      this.logger.info({ paused: this.opts.paused }, 'stream trigger started: partitions come from the consumer group');
      return;
    }
    const committed = await this.source.committed();
    const bounds = await this.source.bounds();
    const inFlight = (await this.source.inFlight?.()) ?? new Map<number, number>();
    for (const p of await this.source.partitions()) this.addWorker(p, committed.get(p) ?? bounds.get(p)?.start ?? 0, inFlight.get(p));
    this.logger.info({ partitions: this.workers.size, paused: this.opts.paused }, 'stream trigger started');
  }

  /** `inFlightLast`: the last offset of a partial batch left in flight (StreamSource.markInFlight), formed again first. */
  private addWorker(p: number, committed: number, inFlightLast?: number): void {
    const stop = new AbortController();
    const gate = new PartitionGate(this.semaphore);
    const worker = new PartitionWorker(p, {
      triggerId: this.trigger.id,
      triggerName: this.trigger.name,
      source: this.source,
      options: () => this.opts,
      semaphore: gate,
      invoke: (batch, signal) => this.invoke(batch, signal),
      deadLetter: (letters, commit) => this.deadLetter(letters, commit),
      onBatch: (outcome, records) => {
        this.deps.metrics.streamBatches.add(this.seriesOf(outcome));
        if (outcome === 'ok' || outcome === 'partial') this.deps.metrics.streamRecords.add(this.seriesOf('ok'), records);
        if (outcome === 'dead_lettered' || outcome === 'filtered') this.deps.metrics.streamRecords.add(this.seriesOf(outcome), records);
      },
      log: this.logger.child({ partition: p }),
    }, AbortSignal.any([this.stopper.signal, stop.signal]));
    worker.committed = committed;
    if (inFlightLast !== undefined) worker.resumeInFlight(inFlightLast);
    this.workers.set(p, { worker, gate, stop, running: worker.run() });
  }

  /** Applies a change of the consumer group's assignment (one at a time, in order: the source serializes them). */
  private readonly rebalance: AssignmentListener = async ({ assigned, revoked, lost }) => {
    if (revoked.length > 0) {
      const drainMs = lost ? 0 : this.drainTimeoutMs();
      const results = await Promise.all(revoked.map((p) => this.retire(p, drainMs)));
      const fenced = revoked.filter((_, i) => results[i] === 'fenced');
      this.logger.info({ partitions: revoked, lost, drain_ms: drainMs, fenced_in_flight: fenced },
        lost ? 'partitions lost: fenced without draining' : 'partitions revoked: drained, committed and fenced');
    }
    if (assigned.length > 0) {
      const offsets = await this.startOffsets(assigned);
      const inFlight = offsets.size > 0 ? await this.inFlightOrNone() : new Map<number, number>();
      const started: number[] = [];
      for (const [p, offset] of offsets) {
        if (this.stopper.signal.aborted || this.workers.has(p)) continue;
        this.addWorker(p, offset, inFlight.get(p));
        started.push(p);
      }
      this.logger.info({ partitions: started, offsets: Object.fromEntries(offsets) }, 'partitions assigned: consuming');
    }
  };

  /** The partial batches left in flight; none when they cannot be read (the batch is then formed from what is there). */
  private async inFlightOrNone(): Promise<Map<number, number>> {
    try {
      return (await this.source.inFlight?.()) ?? new Map();
    } catch (err) {
      this.logger.warn({ err }, 'cannot read the partial batches left in flight: forming them from what is there');
      return new Map();
    }
  }

  /** Where newly assigned partitions start: the group's committed offsets (retried while the partitions are still ours). */
  private async startOffsets(partitions: number[]): Promise<Map<number, number>> {
    for (let attempt = 1; ; attempt++) {
      const owned = new Set(await this.source.partitions());
      const wanted = partitions.filter((p) => owned.has(p));
      if (wanted.length === 0 || this.stopper.signal.aborted) return new Map();
      try {
        const committed = await this.source.committed();
        const missing = wanted.filter((p) => !committed.has(p));
        // Without a committed offset (a partition added to the topic later) start at the beginning: nothing skipped.
        const bounds: OffsetBounds = missing.length > 0 ? await this.source.bounds() : new Map();
        return new Map(wanted.map((p) => [p, committed.get(p) ?? bounds.get(p)?.start ?? 0]));
      } catch (err) {
        this.logger.warn({ err, partitions: wanted, attempt }, 'cannot read committed offsets for assigned partitions; retrying');
        await interruptibleSleep(Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)), [this.stopper.signal]);
      }
    }
  }

  private drainTimeoutMs(): number {
    const ms = isKafkaOptions(this.opts) ? this.opts.drain_timeout_ms : DEFAULT_DRAIN_MS;
    return this.stopping && this.deps.shutdownGraceMs !== undefined ? Math.min(ms, this.deps.shutdownGraceMs) : ms;
  }

  /**
   * Drain then fence: no new batch starts on the partition; its batch in flight may finish (and commit) for up to
   * `drainMs`; then any late completion is fenced and the worker stops.
   */
  private async retire(p: number, drainMs: number): Promise<'idle' | 'drained' | 'fenced'> {
    const slot = this.workers.get(p);
    if (!slot) return 'idle';
    slot.gate.close();
    const wasBusy = slot.gate.busy;
    const until = Date.now() + drainMs;
    while (slot.gate.busy && Date.now() < until) {
      // Between calls (a retry backoff, a throttle wait) there is nothing to finish: cut the wait short.
      if (!slot.worker.inFlight) slot.worker.nudge();
      await slot.gate.idle(Math.min(50, until - Date.now()));
    }
    const outcome = slot.gate.busy ? 'fenced' : wasBusy ? 'drained' : 'idle';
    slot.worker.fence();
    slot.stop.abort();
    await slot.running;
    this.workers.delete(p);
    return outcome;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.source.release) {
      // Hand every partition back drained, while the consumer can still commit.
      await this.source.release().catch((err: unknown) => this.logger.error({ err }, 'releasing partitions failed'));
    }
    this.stopper.abort();
    await Promise.all([...this.workers.values()].map((s) => s.running));
    this.workers.clear();
    await this.source.close();
  }

  /**
   * New options from an update; batches in flight finish under the old ones, except that a pause (made through
   * another server sharing the database) fences them as a pause here does.
   */
  reconfigure(opts: StreamTriggerOptions): void {
    const pausing = opts.paused !== this.opts.paused;
    this.opts = opts;
    if (pausing) this.applyPause(opts.paused);
    else for (const { worker } of this.workers.values()) worker.nudge();
  }

  /** Pauses or resumes; a pause fences the batches in flight on every server that runs a partition of the trigger. */
  async setPaused(paused: boolean): Promise<void> {
    this.opts = { ...this.opts, paused };
    this.applyPause(paused);
    if (paused) await this.source.fenceEverywhere?.();
  }

  private applyPause(paused: boolean): void {
    for (const { worker } of this.workers.values()) {
      if (paused) worker.fence();
      else worker.unblock();
    }
  }

  /**
   * Moves every partition (or one) to a position; the trigger must be paused. With a consumer group, only the
   * partitions assigned to this server move.
   */
  async seek(position: StartPosition, partition?: number): Promise<Map<number, number>> {
    // Leased partitions move wherever they run: the offsets are written in the database and their owners restart them.
    const seekCommitted = this.source.seekCommitted?.bind(this.source);
    if (partition !== undefined && this.grouped && !seekCommitted && !this.workers.has(partition)) {
      throw errors.conflict(`partition ${partition} is not assigned to this server (another member of the consumer group consumes it); seek it there`);
    }
    const resolved = await this.source.resolve(position);
    // With explicit offsets, only the partitions named move; the others keep their place.
    const named = typeof position === 'object' && 'offsets' in position ? new Set(Object.keys(position.offsets).map(Number)) : undefined;
    const moves = new Map([...resolved].filter(([p]) => (partition === undefined || p === partition) && (!named || named.has(p))));
    if (seekCommitted) {
      await seekCommitted(moves);
      return resolved;
    }
    for (const [p, offset] of moves) await this.workers.get(p)?.worker.seek(offset);
    return resolved;
  }

  async status(): Promise<PartitionStatus[]> {
    let bounds: OffsetBounds = new Map();
    let committed = new Map<number, number>();
    if (this.grouped) {
      // The group's view (every partition of the topic), best effort: the broker may be unreachable.
      [bounds, committed] = await Promise.all([
        this.source.bounds().catch(() => bounds),
        this.source.committed().catch(() => committed),
      ]);
    } else {
      bounds = await this.source.bounds();
    }
    const partitions = this.grouped
      ? [...new Set([...bounds.keys(), ...this.workers.keys()])].sort((a, b) => a - b)
      : [...this.workers.keys()];
    const owners = await this.source.owners?.().catch(() => undefined);
    const now = Date.now();
    const out: PartitionStatus[] = [];
    for (const p of partitions) {
      const w = this.workers.get(p)?.worker;
      const b = bounds.get(p) ?? { start: 0, end: 0 };
      const at = w ? w.committed : committed.get(p) ?? b.start;
      const from = Math.max(at, b.start);
      const lag = Math.max(0, b.end - from);
      const oldest = lag > 0 && w ? await this.peekTimestamp(p, from) : undefined;
      const lagSeconds = oldest !== undefined ? Math.max(0, (now - oldest) / 1000) : 0;
      if (w) {
        this.deps.metrics.streamLagRecords.set({ ...this.labels, partition: String(p) }, lag);
        this.deps.metrics.streamLagSeconds.set({ ...this.labels, partition: String(p) }, lagSeconds);
      }
      out.push({
        partition: p, committed: at, start: b.start, end: b.end, lag_records: lag, lag_seconds: lagSeconds,
        state: w ? w.state : { kind: 'UNASSIGNED' }, in_flight: w?.inFlight ?? null, last_error: w?.lastError ?? null,
        last_success_at: w?.lastSuccessAt ?? null, dead_lettered: w?.deadLettered ?? 0,
        ...(owners ? { owner: owners.get(p) ?? null } : {}),
      });
    }
    return out;
  }

  private async peekTimestamp(p: number, offset: number): Promise<number | undefined> {
    if (this.source.peekTimestamp) return this.source.peekTimestamp(p, offset);
    return (await this.source.fetch(p, offset, 1, Infinity))[0]?.timestamp;
  }

  /** One batch call through the agent, classified: ok, throttled (no attempt spent) or failed. */
  private async invoke(batch: BatchEventInput, signal: AbortSignal): Promise<InvokeOutcome> {
    const fn = await this.deps.store.getFnById(this.trigger.fn_id);
    const app = fn && (await this.deps.store.getAppById(fn.app_id));
    if (!fn || !app) return { kind: 'throttled', error: 'the function or its app no longer exists' };
    const body = Buffer.from(batchEvent(batch));
    if (body.length > this.deps.maxRequestBytes) {
      return { kind: 'too_large', error: `the batch is ${body.length} bytes encoded; a call carries at most ${this.deps.maxRequestBytes}` };
    }
    const callId = newId();
    try {
      const origin = { triggerId: this.trigger.id, batch: `${batch.stream}/${batch.range.partition}@${batch.range.first}-${batch.range.last}` };
      const res = await this.deps.agent.call({ app, fn, callId, headers: batchHeaders(batch), body, signal, origin });
      if (Buffer.isBuffer(res.body)) return { kind: 'ok', body: res.body.subarray(0, MAX_RESPONSE_BYTES).toString('utf8') };
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk as Buffer);
      }
      return { kind: 'ok', body: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      if (isFntsError(err) && THROTTLE_CODES.has(err.code)) return { kind: 'throttled', error: err.message };
      // The function's own words and the call (its output: `fnts get logs`) go to the partition's status and dead letters.
      if (isFntsError(err)) {
        const said = err.detail === undefined ? err.message : `${err.message}: ${err.detail}`;
        return { kind: 'failed', error: `${said} (call ${callId})`, status: err.status };
      }
      return { kind: 'failed', error: (err as Error).message, status: 500 };
    }
  }

  /** Where dead letters go: the embedded dead-letter stream, or the Kafka trigger's dead-letter topic. */
  private get deadLetterDestination(): string {
    return isKafkaOptions(this.opts) ? this.opts.dead_letter_topic : this.opts.dead_letter_stream;
  }

  /** Writes dead letters with everything needed to redrive them (STREAMS.md §8), and commits past them. */
  private async deadLetter(letters: DeadLetter[], commit: CommitAfterLetters): Promise<boolean> {
    const fn = await this.deps.store.getFnById(this.trigger.fn_id);
    const origin = {
      stream: this.source.name, sourceType: this.source.type, fnImage: fn?.image ?? '',
      trigger: { id: this.trigger.id, name: this.trigger.name, fnId: this.trigger.fn_id },
    };
    return this.source.writeDeadLetters(
      this.deadLetterDestination, letters.map((l) => ({ record: l.record, headers: deadLetterHeaders(l, origin) })), commit,
    );
  }

  /**
   * Sends this trigger's dead letters back to the function, one record per call, from where the last redrive
   * stopped; stops at the first failure. Original coordinates travel in the record and its headers.
   */
  redrive(): Promise<RedriveResult> {
    return this.source.redriveDeadLetters(this.deadLetterDestination, (letter) => this.redriveOne(letter));
  }

  /** One dead letter back to the function with its original coordinates; the error when it fails again. */
  private async redriveOne(letter: Pick<SourceRecord, 'key' | 'value' | 'headers'>): Promise<string | undefined> {
    const { record, attempt } = redrivenRecord(letter);
    const range = { partition: record.partition, first: record.offset, last: record.offset };
    const outcome = await this.invoke({
      sourceType: this.source.type, stream: this.source.name, range, id: batchId(this.trigger.id, range), attempt,
      trigger: { id: this.trigger.id, name: this.trigger.name }, encoding: this.opts.value_encoding, records: [record],
    }, this.stopper.signal);
    if (outcome.kind === 'ok' && parseBatchResponse(outcome.body, range).kind === 'success') return undefined;
    return outcome.kind === 'ok' ? 'the function reported the record as failed' : outcome.error;
  }
}
