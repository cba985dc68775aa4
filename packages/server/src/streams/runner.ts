import type { Logger } from 'pino';
import { newId } from '../ids.js';
import type { Agent } from '../agent/agent.js';
import { isFntsError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Datastore } from '../store/datastore.js';
import type { Trigger } from '../store/models.js';
import { batchEvent, batchHeaders, batchId, parseBatchResponse, type BatchEventInput } from './event.js';
import type { EmbeddedLog } from './log.js';
import type { StreamTriggerOptions } from './options.js';
import { PartitionWorker, type DeadLetter, type InvokeOutcome } from './partition-worker.js';
import { Semaphore } from './semaphore.js';
import type { SourceRecord, StartPosition, StreamSource } from './source.js';

/** Platform conditions that must not spend a batch's retry budget (STREAMS.md §5). */
const THROTTLE_CODES = new Set([
  'FNTS_ERR_SERVER_BUSY', 'FNTS_ERR_CONTAINER_INIT_FAILED', 'FNTS_ERR_CONTAINER_INIT_TIMEOUT', 'FNTS_ERR_IMAGE_NOT_FOUND',
]);
/** The most of a batch answer that is read (a partial-failure list, not a payload). */
const MAX_RESPONSE_BYTES = 1024 * 1024;
export const DLQ_HEADER = 'fnts.dlq.';

export interface RunnerDeps {
  agent: Agent;
  store: Datastore;
  log: EmbeddedLog;
  metrics: Metrics;
  logger: Logger;
}

export interface PartitionStatus {
  partition: number;
  committed: number;
  start: number;
  end: number;
  lag_records: number;
  lag_seconds: number;
  state: PartitionWorker['state'];
  in_flight: PartitionWorker['inFlight'] | null;
  last_error: string | null;
  last_success_at: string | null;
  dead_lettered: number;
}


/** Runs one stream trigger: a worker per partition sharing the trigger's concurrency limit. */
export class TriggerRunner {
  private readonly stopper = new AbortController();
  private readonly workers = new Map<number, PartitionWorker>();
  private running: Promise<void>[] = [];
  private readonly labels: { app_id: string; fn_id: string; trigger_id: string };
  private readonly logger: Logger;

  constructor(
    readonly trigger: Trigger,
    private opts: StreamTriggerOptions,
    readonly source: StreamSource,
    private readonly deps: RunnerDeps,
  ) {
    this.labels = { app_id: trigger.app_id, fn_id: trigger.fn_id, trigger_id: trigger.id };
    this.logger = deps.logger.child({ trigger_id: trigger.id, stream: source.name });
  }

  get options(): StreamTriggerOptions {
    return this.opts;
  }

  async start(): Promise<void> {
    const committed = await this.source.committed();
    const bounds = await this.source.bounds();
    const semaphore = new Semaphore(this.opts.max_concurrency);
    for (const p of await this.source.partitions()) {
      const worker = new PartitionWorker(p, {
        triggerId: this.trigger.id,
        triggerName: this.trigger.name,
        source: this.source,
        options: () => this.opts,
        semaphore,
        invoke: (batch, signal) => this.invoke(batch, signal),
        deadLetter: (letters) => this.deadLetter(letters),
        onBatch: (outcome, records) => {
          this.deps.metrics.streamBatches.inc({ ...this.labels, outcome });
          if (outcome === 'ok' || outcome === 'partial') this.deps.metrics.streamRecords.inc({ ...this.labels, outcome: 'ok' }, records);
          if (outcome === 'dead_lettered') this.deps.metrics.streamRecords.inc({ ...this.labels, outcome: 'dead_lettered' }, records);
        },
        log: this.logger.child({ partition: p }),
      }, this.stopper.signal);
      worker.committed = committed.get(p) ?? bounds.get(p)?.start ?? 0;
      this.workers.set(p, worker);
    }
    this.running = [...this.workers.values()].map((w) => w.run());
    this.logger.info({ partitions: this.workers.size, paused: this.opts.paused }, 'stream trigger started');
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await Promise.all(this.running);
    await this.source.close();
  }

  /** New options from an update; batches in flight finish under the old ones. */
  reconfigure(opts: StreamTriggerOptions): void {
    this.opts = opts;
    for (const w of this.workers.values()) w.nudge();
  }

  setPaused(paused: boolean): void {
    this.opts = { ...this.opts, paused };
    for (const w of this.workers.values()) {
      if (paused) w.fence();
      else w.unblock();
    }
  }

  /** Moves every partition (or one) to a position; the trigger must be paused. */
  async seek(position: StartPosition, partition?: number): Promise<Map<number, number>> {
    const resolved = await this.source.resolve(position);
    for (const [p, offset] of resolved) {
      if (partition !== undefined && p !== partition) continue;
      await this.workers.get(p)?.seek(offset);
    }
    return resolved;
  }

  async status(): Promise<PartitionStatus[]> {
    const bounds = await this.source.bounds();
    const now = Date.now();
    const out: PartitionStatus[] = [];
    for (const [p, w] of this.workers) {
      const b = bounds.get(p) ?? { start: 0, end: 0 };
      const from = Math.max(w.committed, b.start);
      const lag = Math.max(0, b.end - from);
      const oldest = lag > 0 ? (await this.source.fetch(p, from, 1, Infinity))[0] : undefined;
      const lagSeconds = oldest ? Math.max(0, (now - oldest.timestamp) / 1000) : 0;
      this.deps.metrics.streamLagRecords.set({ ...this.labels, partition: String(p) }, lag);
      this.deps.metrics.streamLagSeconds.set({ ...this.labels, partition: String(p) }, lagSeconds);
      out.push({
        partition: p, committed: w.committed, start: b.start, end: b.end, lag_records: lag, lag_seconds: lagSeconds,
        state: w.state, in_flight: w.inFlight ?? null, last_error: w.lastError ?? null,
        last_success_at: w.lastSuccessAt ?? null, dead_lettered: w.deadLettered,
      });
    }
    return out;
  }

  /** One batch call through the agent, classified: ok, throttled (no attempt spent) or failed. */
  private async invoke(batch: BatchEventInput, signal: AbortSignal): Promise<InvokeOutcome> {
    const fn = await this.deps.store.getFnById(this.trigger.fn_id);
    const app = fn && (await this.deps.store.getAppById(fn.app_id));
    if (!fn || !app) return { kind: 'throttled', error: 'the function or its app no longer exists' };
    try {
      const res = await this.deps.agent.call({
        app, fn, callId: newId(), headers: batchHeaders(batch),
        body: Buffer.from(batchEvent(batch)), signal,
      });
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk as Buffer);
      }
      return { kind: 'ok', body: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      if (isFntsError(err) && THROTTLE_CODES.has(err.code)) return { kind: 'throttled', error: err.message };
      if (isFntsError(err)) return { kind: 'failed', error: err.message, status: err.status };
      return { kind: 'failed', error: (err as Error).message, status: 500 };
    }
  }

  /** Appends dead letters to the trigger's dead-letter stream with everything needed to redrive them. */
  private async deadLetter(letters: DeadLetter[]): Promise<void> {
    const dlq = this.deps.log.getStream(this.opts.dead_letter_stream);
    if (!dlq) throw new Error(`dead-letter stream "${this.opts.dead_letter_stream}" does not exist`);
    const fn = await this.deps.store.getFnById(this.trigger.fn_id);
    this.deps.log.append(dlq, letters.map((l) => ({
      key: l.record.key,
      value: l.record.value,
      headers: {
        ...l.record.headers,
        [`${DLQ_HEADER}stream`]: this.source.name,
        [`${DLQ_HEADER}source-type`]: this.source.type,
        [`${DLQ_HEADER}partition`]: String(l.record.partition),
        [`${DLQ_HEADER}offset`]: String(l.record.offset),
        [`${DLQ_HEADER}timestamp`]: String(l.record.timestamp),
        [`${DLQ_HEADER}trigger-id`]: this.trigger.id,
        [`${DLQ_HEADER}trigger`]: this.trigger.name,
        [`${DLQ_HEADER}fn-id`]: this.trigger.fn_id,
        [`${DLQ_HEADER}fn-image`]: fn?.image ?? '',
        [`${DLQ_HEADER}attempts`]: String(l.attempts),
        [`${DLQ_HEADER}error`]: l.error,
        [`${DLQ_HEADER}status`]: String(l.status),
      },
    })));
  }

  /**
   * Sends this trigger's dead letters back to the function, one record per call, from where the last redrive
   * stopped; stops at the first failure. Original coordinates travel in the record and its headers.
   */
  async redrive(): Promise<{ redriven: number; remaining: number; error?: string }> {
    const dlq = this.deps.log.getStream(this.opts.dead_letter_stream);
    if (!dlq) return { redriven: 0, remaining: 0, error: `dead-letter stream "${this.opts.dead_letter_stream}" does not exist` };
    const group = `${this.trigger.id}:redrive`;
    let redriven = 0;
    for (const bound of this.deps.log.bounds(dlq.id)) {
      let offset = Math.max(this.deps.log.getGroupOffsets(group, dlq.id).get(bound.partition) ?? 0, bound.start);
      for (; offset < bound.end; offset++) {
        const [letter] = this.deps.log.read(dlq.id, bound.partition, offset, 1);
        if (!letter || letter.headers[`${DLQ_HEADER}trigger-id`] !== this.trigger.id) continue;
        const h = letter.headers;
        const record: SourceRecord = {
          partition: Number(h[`${DLQ_HEADER}partition`]), offset: Number(h[`${DLQ_HEADER}offset`]),
          timestamp: Number(h[`${DLQ_HEADER}timestamp`]), key: letter.key, value: letter.value, headers: h,
        };
        const range = { partition: record.partition, first: record.offset, last: record.offset };
        const outcome = await this.invoke({
          sourceType: this.source.type, stream: this.source.name, range, id: batchId(this.trigger.id, range),
          attempt: Number(h[`${DLQ_HEADER}attempts`] ?? 0) + 1, trigger: { id: this.trigger.id, name: this.trigger.name },
          encoding: this.opts.value_encoding, records: [record],
        }, this.stopper.signal);
        const ok = outcome.kind === 'ok' && parseBatchResponse(outcome.body, range).kind === 'success';
        if (!ok) {
          const error = outcome.kind === 'ok' ? 'the function reported the record as failed' : outcome.error;
          return { redriven, remaining: this.remainingLetters(dlq.id, group), error };
        }
        redriven++;
        this.deps.log.setGroupOffset(group, dlq.id, bound.partition, offset + 1);
      }
      this.deps.log.setGroupOffset(group, dlq.id, bound.partition, bound.end);
    }
    return { redriven, remaining: 0 };
  }

  private remainingLetters(dlqId: string, group: string): number {
    const done = this.deps.log.getGroupOffsets(group, dlqId);
    return this.deps.log.bounds(dlqId).reduce((n, b) => n + Math.max(0, b.end - Math.max(done.get(b.partition) ?? 0, b.start)), 0);
  }
}
