import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { Agent } from '../agent/agent.js';
import type { HeaderMap } from '../agent/http-headers.js';
import { errors, isFntsError } from '../errors.js';
import type { Datastore } from '../store/datastore.js';
import type { App, CallResult, ClaimedCall, Fn } from '../store/models.js';
import { failureOf, resultAt } from './outcome.js';

/** Bounds of the detached queue. */
export interface DetachedQueueSettings {
  /** Detached calls running at once, across functions. */
  concurrency: number;
  /** Detached calls queued or running at most; past it a new one gets 503 before its 202. */
  maxPending: number;
  /** Runs per call while the platform throttles it (503 busy); then the call ends as an error. */
  maxAttempts: number;
  /** Backoff between throttled runs: doubling from the first, capped at the second (with jitter). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A function's capacity when it sets no `max_containers`. */
  defaultMaxContainers: number;
  /**
   * How long after its server died (or lost the database) a running call is run by another server, at most (given
   * capacity there). The lease is two thirds of it; every sixth of it each server renews its leases and looks for
   * calls to run, so a lease survives three failed renewals and a dead server's call is found within the rest.
   */
  takeoverMs: number;
}

/** The lease and the renew/poll period a takeover bound makes (see DetachedQueueSettings.takeoverMs). */
export function leaseTiming(takeoverMs: number): { leaseMs: number; tickMs: number } {
  return { leaseMs: Math.floor((takeoverMs * 2) / 3), tickMs: Math.max(1, Math.floor(takeoverMs / 6)) };
}

/** A detached call as the API hands it over: everything needed to run it later. */
export interface DetachedSubmission {
  app: App;
  fn: Fn;
  callId: string;
  headers: HeaderMap;
  body: Buffer | null;
}

/** Platform throttling: the call did not run, and may once capacity frees up. */
const THROTTLED = new Set(['FNTS_ERR_SERVER_BUSY']);
/** What a shutdown does to a call in flight: the agent refuses it, or removes its container mid-call. */
const INTERRUPTED = new Set(['FNTS_ERR_SERVER_BUSY', 'FNTS_ERR_CALL_RECEIVE_FAILED']);

const NEVER = new AbortController().signal;

/**
 * Runs detached calls durably. A call is stored as `queued` before its client gets 202; the queue claims calls
 * oldest first (one statement moves a call to `running` for this server, so each is run once), never more per
 * function than the function's containers can take at once and never more in all than `concurrency`, so calls
 * wait here for capacity rather than fail in the agent. A call the platform throttles anyway (503) goes back to
 * the queue with backoff. A call interrupted by a shutdown or crash is queued again and runs after the restart
 * (at least once, like stream triggers).
 *
 * Several servers on one database share the queue. A claim is a lease this queue renews while the call runs; a
 * server that dies stops renewing, and another server's periodic look for work takes the call over once the lease
 * has run out (its attempt counted). If the first server was only cut off and finishes late, its result is dropped:
 * the store ends a call only under its current claim. So a call runs at least once and is recorded exactly once.
 */
export class DetachedCallQueue {
  private running = 0;
  /** Calls running per function, and how many that function can take at once. */
  private readonly perFn = new Map<string, { running: number; capacity: number }>();
  private readonly runs = new Set<Promise<void>>();
  private stopping = false;
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  /** The calls this queue runs now, by id: their leases are renewed every tick. */
  private readonly held = new Map<string, ClaimedCall>();
  private ticker: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly leaseMs: number;
  private readonly tickMs: number;

  constructor(
    private readonly deps: { store: Datastore; agent: Agent; log: Logger; owner: string },
    private readonly settings: DetachedQueueSettings,
  ) {
    ({ leaseMs: this.leaseMs, tickMs: this.tickMs } = leaseTiming(settings.takeoverMs));
  }

  /**
   * Queues again what this server left running when it stopped, then starts running the queue and its tick: renew
   * the leases of the calls running here, then look for calls to run (queued through another server, or left by a
   * dead one).
   */
  async start(): Promise<void> {
    const recovered = await this.deps.store.calls.recover(this.deps.owner);
    if (recovered > 0) this.deps.log.info({ recovered }, 'detached calls interrupted by the last shutdown are queued again');
    this.ticker = setInterval(() => void this.tick(), this.tickMs);
    this.ticker.unref();
    this.pump();
  }

  private async tick(): Promise<void> {
    // A tick still waiting on a slow database is not stacked on.
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.renewLeases();
      this.pump();
    } finally {
      this.ticking = false;
    }
  }

  private async renewLeases(): Promise<void> {
    const ids = [...this.held.keys()];
    if (ids.length === 0) return;
    try {
      const kept = new Set(await this.deps.store.calls.renew(this.deps.owner, ids, Date.now() + this.leaseMs));
      for (const id of ids) {
        if (!kept.has(id) && this.held.delete(id)) {
          this.deps.log.warn({ call_id: id }, 'detached call taken over by another server (this server\'s lease ran out); its result here will be dropped');
        }
      }
    } catch (err) {
      // A lease lasts four ticks: the next renewals may still be in time.
      this.deps.log.warn({ err }, 'renewing the leases of running detached calls failed');
    }
  }

  /** Stores a detached call (before the client's 202); 503 when the queue is full or the server is stopping. */
  async submit(s: DetachedSubmission): Promise<void> {
    if (this.stopping) throw errors.serverBusy();
    const { calls } = this.deps.store;
    if ((await calls.countPending()) >= this.settings.maxPending) throw errors.detachedQueueFull(this.settings.maxPending);
    await calls.enqueue(
      { id: s.callId, app_id: s.app.id, fn_id: s.fn.id, type: 'detached', status: 'queued', created_at: new Date().toISOString(), attempts: 0 },
      { headers: s.headers, body: s.body },
    );
    this.pump();
  }

  /** Stops claiming calls; running ones finish within the agent's grace period or go back to the queue. */
  stop(): void {
    this.stopping = true;
    clearTimeout(this.timer);
  }

  /**
   * Resolves once every call this queue started has been recorded (after stop() and the agent's close); the leases
   * of calls still running are renewed until then, so a slow shutdown does not hand them to another server.
   */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.runs]);
    clearInterval(this.ticker);
  }

  /** Claims and starts calls while there is capacity; re-runs itself when woken during a pass. */
  private pump(): void {
    if (this.stopping) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.fill()
      .catch((err: unknown) => this.deps.log.error({ err }, 'detached queue failed to claim calls'))
      .finally(() => {
        this.pumping = false;
        if (this.again) this.pump();
      });
  }

  private async fill(): Promise<void> {
    const { store } = this.deps;
    let lookedAt = Date.now();
    do {
      this.again = false;
      while (!this.stopping && this.running < this.settings.concurrency) {
        lookedAt = Date.now();
        const call = await store.calls.claim(this.deps.owner, lookedAt, this.saturated(), this.leaseMs);
        if (!call) break;
        this.held.set(call.id, call);
        if (call.previous_owner !== undefined) {
          this.deps.log.warn({ call_id: call.id, from: call.previous_owner, attempt: call.attempts },
            'detached call taken over from a server whose lease ran out');
        }
        // The function is loaded before the next claim, so its capacity is known when that claim is made.
        const fn = await store.getFnById(call.fn_id);
        const app = fn && (await store.getAppById(fn.app_id));
        if (!fn || !app) {
          const gone = fn ? errors.appNotFound() : errors.fnNotFound();
          await store.calls.finish(call, resultAt(Date.parse(call.created_at), Date.now(), failureOf(gone)));
          this.held.delete(call.id);
          continue;
        }
        this.launch(call, app, fn);
      }
    } while (this.again && !this.stopping);
    await this.armRetryTimer(lookedAt);
  }

  /** Functions with as many detached calls running as they have slots. */
  private saturated(): string[] {
    const out: string[] = [];
    for (const [fnId, slot] of this.perFn) if (slot.running >= slot.capacity) out.push(fnId);
    return out;
  }

  private launch(call: ClaimedCall, app: App, fn: Fn): void {
    const capacity = (fn.max_containers ?? this.settings.defaultMaxContainers) * (fn.concurrency ?? 1);
    const slot = this.perFn.get(fn.id) ?? { running: 0, capacity };
    slot.capacity = capacity;
    slot.running++;
    this.perFn.set(fn.id, slot);
    this.running++;
    const run: Promise<void> = this.run(call, app, fn)
      .catch((err: unknown) => this.deps.log.error({ err, call_id: call.id }, 'recording a detached call failed'))
      .finally(() => {
        this.held.delete(call.id);
        this.running--;
        if (--slot.running === 0) this.perFn.delete(fn.id);
        this.runs.delete(run);
        this.pump();
      });
    this.runs.add(run);
  }

  private async run(call: ClaimedCall, app: App, fn: Fn): Promise<void> {
    const createdMs = Date.parse(call.created_at);
    try {
      const res = await this.deps.agent.call({
        app, fn, callId: call.id, headers: call.headers, body: call.body, signal: NEVER, origin: { detached: true },
      });
      if (!Buffer.isBuffer(res.body)) {
        res.body.resume();
        await finished(res.body);
      }
      await this.ended(call, resultAt(createdMs, Date.now(), { status: 'success' }));
    } catch (err) {
      await this.failed(call, err, createdMs);
    }
  }

  /** Records the call's end, unless another server has taken it over meanwhile (then its record is that server's). */
  private async ended(call: ClaimedCall, result: CallResult): Promise<void> {
    if (!(await this.deps.store.calls.finish(call, result))) {
      this.deps.log.warn({ call_id: call.id, status: result.status }, 'detached call ended here after another server took it over; this result is dropped');
    }
  }

  /** Retries throttled calls with backoff, queues again those a shutdown interrupted, and records the rest. */
  private async failed(call: ClaimedCall, err: unknown, createdMs: number): Promise<void> {
    const { calls } = this.deps.store;
    const code = isFntsError(err) ? err.code : undefined;
    if (this.stopping && code !== undefined && INTERRUPTED.has(code)) {
      // A call the closing agent refused never ran: it keeps its attempt.
      await calls.requeue(call, 0, code === 'FNTS_ERR_SERVER_BUSY');
      return;
    }
    if (code !== undefined && THROTTLED.has(code) && call.attempts < this.settings.maxAttempts) {
      const delayMs = this.backoff(call.attempts);
      if (!(await calls.requeue(call, Date.now() + delayMs, false))) return;
      this.deps.log.info({ call_id: call.id, attempt: call.attempts, delay_ms: delayMs }, 'detached call throttled; it runs again later');
      return;
    }
    const failure = failureOf(err);
    if (code !== undefined && THROTTLED.has(code)) failure.error = `${failure.error ?? ''} (after ${call.attempts} attempts)`;
    await this.ended(call, resultAt(createdMs, Date.now(), failure));
  }

  /** Doubling backoff with jitter in [half, whole], so throttled calls do not come back all at once. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** Math.min(30, attempt - 1));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  /**
   * Wakes the queue when the earliest call waiting for a retry is due. `lookedAt` is the time the last claim used: a
   * call falling due between that claim and this query is found here instead of being lost between the two (a timer
   * may fire a millisecond before Date.now() reaches its due time, and the queue then stalled).
   */
  private async armRetryTimer(lookedAt: number): Promise<void> {
    if (this.stopping) return;
    const due = await this.deps.store.calls.nextDue(lookedAt);
    if (due === undefined || due >= this.timerDue) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.pump();
    }, Math.max(0, due - Date.now()));
    this.timer.unref();
  }
}
