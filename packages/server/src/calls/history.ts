import type { Logger } from 'pino';
import type { CallEnd } from '../agent/agent.js';
import { isFntsError } from '../errors.js';
import type { CallStore } from '../store/datastore.js';
import type { CallRecord, CallRetention } from '../store/models.js';
import { failureOf, isoAt, resultAt } from './outcome.js';

/** How sync calls are recorded and how long records are kept. */
export interface CallHistorySettings {
  /** Records wait in memory at most this long before one transaction writes them. */
  flushMs: number;
  /** Records held in memory at most; past it new ones are counted as dropped (the store is too slow). */
  maxBuffered: number;
  retention: CallRetention;
  /** How often retention runs. */
  trimEveryMs: number;
}

/** After a write failed because the database is away, the held records are tried again this much later. */
const RETRY_AWAY_MS = 1000;

/** What the history keeps of an ended call until the next flush: ids and times, no request body or headers. */
export interface EndedCall {
  callId: string;
  appId: string;
  fnId: string;
  origin: CallEnd['req']['origin'];
  createdMs: number;
  startedMs: number | undefined;
  endedMs: number;
  outcome: CallEnd['outcome'];
  error: Error | undefined;
}

const SUCCESS = { status: 'success' as const };

/** The record of a call that has ended (made at flush time: formatting dates is kept off the call's path). */
export function recordOf(end: EndedCall): CallRecord {
  const outcome = end.outcome === 'success' ? SUCCESS : failureOf(end.error);
  const call: CallRecord = {
    id: end.callId,
    app_id: end.appId,
    fn_id: end.fnId,
    type: end.origin?.detached ? 'detached' : 'sync',
    created_at: isoAt(end.createdMs),
    attempts: 1,
    ...resultAt(end.createdMs, end.endedMs, outcome),
  };
  if (end.startedMs !== undefined) call.started_at = isoAt(end.startedMs);
  if (end.origin?.triggerId !== undefined) call.trigger_id = end.origin.triggerId;
  if (end.origin?.batch !== undefined) call.batch = end.origin.batch;
  return call;
}

/**
 * Keeps the recent calls of every function. Sync calls are recorded off the hot path: the agent hands each
 * ended call to a bounded in-memory buffer, written every `flushMs` in one transaction; a call never waits on
 * the store. Detached calls have their own rows (the detached queue writes them) and are skipped here.
 */
export class CallHistory {
  private buffer: EndedCall[] = [];
  private dropped = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private trimTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** The last write found the database away: records are held (within maxBuffered) until it is back. */
  private holding = false;

  constructor(
    private readonly store: CallStore,
    private readonly settings: CallHistorySettings,
    private readonly log: Logger,
  ) {}

  /** The agent's call-end listener. */
  readonly onCallEnd = (end: CallEnd): void => {
    const { req } = end;
    if (req.origin?.detached) return;
    this.record({
      callId: req.callId, appId: req.app.id, fnId: req.fn.id, origin: req.origin, createdMs: end.createdMs,
      startedMs: end.startedMs, endedMs: end.endedMs, outcome: end.outcome, error: end.error,
    });
  };

  /** Buffers one ended call for the next flush. */
  record(call: EndedCall): void {
    if (this.closed) return;
    if (this.buffer.length >= this.settings.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(call);
    // Armed only while records wait, so an idle server has no timer waking it.
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, this.settings.flushMs);
      this.flushTimer.unref();
    }
  }

  /** Writes the buffered records now (one transaction). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    if (this.dropped > 0) {
      this.log.warn({ dropped: this.dropped }, 'call records dropped: the store fell behind');
      this.dropped = 0;
    }
    try {
      await this.store.insertMany(batch.map(recordOf));
      if (this.holding) this.log.info({ records: batch.length }, 'the database is back: call records held meanwhile are written');
      this.holding = false;
    } catch (err) {
      if (isFntsError(err) && err.code === 'FNTS_ERR_STORE_UNAVAILABLE' && !this.closed) {
        this.hold(batch);
        return;
      }
      this.log.error({ err, records: batch.length }, 'writing call records failed');
    }
  }

  /**
   * Keeps a batch the lost database refused, oldest first and within maxBuffered (the rest counted as dropped), and
   * tries again shortly: calls of known functions go on while the database restarts, and their records are kept.
   */
  private hold(batch: EndedCall[]): void {
    if (!this.holding) this.log.warn({ records: batch.length }, 'the database is away: call records are held until it is back');
    this.holding = true;
    const kept = [...batch, ...this.buffer];
    this.dropped += Math.max(0, kept.length - this.settings.maxBuffered);
    this.buffer = kept.slice(0, this.settings.maxBuffered);
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, RETRY_AWAY_MS);
    this.flushTimer.unref();
  }

  /** Starts retention in the background. */
  start(): void {
    this.trimTimer = setInterval(() => void this.trim(), this.settings.trimEveryMs);
    this.trimTimer.unref();
  }

  /** Applies retention once; returns how many records went. */
  async trim(): Promise<number> {
    try {
      const removed = await this.store.trim(this.settings.retention, Date.now());
      if (removed > 0) this.log.debug({ removed }, 'call history retention removed records');
      return removed;
    } catch (err) {
      this.log.error({ err }, 'call history retention failed');
      return 0;
    }
  }

  /** Stops the timers and writes what is buffered. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    clearInterval(this.trimTimer);
    await this.flush();
  }
}
