import { availableParallelism } from 'node:os';

/**
 * When a pool starts another container for calls that would wait (FNTS_SCALE_OUT):
 * - `expected-wait`: up to one container per CPU core whenever calls wait (a hot call keeps the server and its
 *   container busy in turn: one container leaves a core idle, bench/invoke.ts), and beyond that only when the newest
 *   waiting call would wait longer for a slot than a container takes to start.
 *   Hot calls of a few milliseconds then queue for a moment on the containers there are instead of each starting its
 *   own: on a small host, eight containers and the server competing for two cores served fewer calls per second than
 *   a few kept busy (bench/invoke.ts, "scaling out" table). Slow calls still scale out, as soon as a wait passes a
 *   start.
 * - `per-call`: a container for every call that would wait (up to the function's maximum), fnts's earlier rule.
 * A function that declares `concurrency` > 1 gets that many slots per container under either.
 */
export type ScaleOutPolicy = 'expected-wait' | 'per-call';
export const SCALE_OUT_POLICIES: readonly ScaleOutPolicy[] = ['expected-wait', 'per-call'];

/** A start time to assume until the pool has measured one (a typical `docker run` to socket here, bench/invoke.ts). */
const DEFAULT_START_MS = 300;
/** Weight of the newest sample in the running means: a few calls move them, one outlier does not. */
const ALPHA = 0.2;

/** A pool's running means of how long a call holds a slot and how long a container takes to start. */
export class PoolTimings {
  private serviceMs = Number.NaN;
  private startMs = Number.NaN;

  /** `cores`: containers started for waiting calls without weighing their wait. */
  constructor(private readonly cores = availableParallelism()) {}

  /** One call held its slot this long. */
  recordService(ms: number): void {
    this.serviceMs = Number.isNaN(this.serviceMs) ? ms : this.serviceMs + ALPHA * (ms - this.serviceMs);
  }

  /** One container took this long from launch to ready. */
  recordStart(ms: number): void {
    this.startMs = Number.isNaN(this.startMs) ? ms : this.startMs + ALPHA * (ms - this.startMs);
  }

  /** The start time to weigh waits against. */
  get expectedStartMs(): number {
    return Number.isNaN(this.startMs) ? DEFAULT_START_MS : this.startMs;
  }

  /**
   * Whether waiting calls are better served by one more container: with `slots` slots (those starting included)
   * all busy, the newest of `waiting` calls is served after about ceil(waiting / slots) calls' time; the oldest has
   * already waited `oldestWaitMs`. Before any call has ended, only a wait already as long as a start counts. Below
   * one container (`containers`, those starting included) per core, any wait does.
   */
  worthStarting(waiting: number, slots: number, oldestWaitMs: number, containers = 0): boolean {
    if (slots === 0 || containers < this.cores) return waiting > 0;
    const startMs = this.expectedStartMs;
    if (oldestWaitMs >= startMs) return true;
    if (Number.isNaN(this.serviceMs)) return false;
    return Math.ceil(waiting / slots) * this.serviceMs > startMs;
  }
}
