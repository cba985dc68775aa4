import type { Logger } from 'pino';
import { ClientGoneError, errors } from '../errors.js';
import type { FnLabels, Metrics } from '../metrics.js';
import type { MemoryBudget } from './capacity.js';
import type { DockerDriver } from './docker.js';
import type { HotContainer } from './hot-container.js';
import { destroyContainer, type LaunchSettings, type OutputSink } from './launcher.js';
import { PoolTimings, type ScaleOutPolicy } from './scale-out.js';
import { offCancel, onCancel, type CancelSignal } from './call-cancel.js';
import { warmUpCall } from './warm-up.js';

/** How far a pool may grow and how long calls may wait for it. */
export interface PoolLimits {
  maxContainers: number;
  maxQueue: number;
  queueTimeoutMs: number;
  idleTimeoutMs: number;
  /** Pause a container this long after it goes idle; negative: never (the default). */
  freezeIdleMs: number;
  /** Hot containers kept even when idle (`fnts.io/min-containers`), restored after crashes and evictions. */
  minContainers: number;
  /** When calls that would wait get a container of their own (scale-out.ts). */
  scaleOut: ScaleOutPolicy;
  /** Warm-up calls sent to a container started ahead of calls, until a call wants it (warm-up.ts); 0: none. */
  warmUpCalls: number;
}

/** Why a container is started: a call waits for it, a deploy starts the first one, or the fn's minimum. */
export type LaunchReason = 'call' | 'deploy' | 'minimum';

/** The longest wait before a failed start for the minimum is tried again (the wait doubles from 1 s up to this). */
const MINIMUM_RETRY_MAX_MS = 60_000;

export interface PoolSettings extends LaunchSettings, PoolLimits {
  key: string;
  /** The function's series labels (id and names) for the pool's metrics. */
  metricLabels: FnLabels;
}

/** What a pool needs from the agent: shared memory, eviction of other pools' idle containers, metrics. */
export interface PoolEnv {
  driver: DockerDriver;
  budget: MemoryBudget;
  /** Frees at least `mib` by removing idle containers of other pools, all or nothing. */
  evict(mib: number, except: HotContainerPool): boolean;
  metrics: Metrics;
  log: Logger;
  onOutput: OutputSink;
  /** Starts one container for the pool and resolves once it is ready (agent/stem-cells.ts, or a new container). */
  launch(s: PoolSettings, signal: AbortSignal, onOutput: OutputSink): Promise<HotContainer>;
  /**
   * Runs `send` (a container's warm-up calls) when the image's containers run the fnts FDK, which answers them (a
   * bundled node function), one container's warm-up at a time server-wide; does nothing for any other image.
   */
  warmUp(image: string, send: () => Promise<void>): Promise<void>;
}

interface Waiter {
  /** When it started waiting (epoch ms). */
  since: number;
  resolve(c: HotContainer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  signal: CancelSignal;
  onAbort(): void;
}

/**
 * The hot containers of one function version (keyed as in CONTRACT §3.1). Calls take a free slot on the
 * most recently used container; otherwise they wait in a bounded FIFO queue while the pool grows up to
 * its maximum and the memory budget allows. A queue that is full, or a wait that times out, is a 503.
 */
export class HotContainerPool {
  private readonly containers = new Set<HotContainer>();
  private readonly waiters: Waiter[] = [];
  private starting = 0;
  private retired = false;
  private closed = false;
  private waitingForMemory = false;
  private readonly launchAbort = new AbortController();
  /** Removals under way, so close() returns only once Docker has removed everything. */
  private readonly removals = new Set<Promise<void>>();
  /** Starts under way: with no call waiting for them (a prestart), close() must still wait for their removal. */
  private readonly launches = new Set<Promise<void>>();
  /** Failed starts for the minimum in a row, and the timer that tries again, so a broken image is not restarted in a loop. */
  private minimumFailures = 0;
  private minimumRetry: NodeJS.Timeout | undefined;
  /** How long calls hold a slot and containers take to start, for the expected-wait rule. */
  private readonly timings = new PoolTimings();
  /** Looks at waiting calls again once the oldest may have waited as long as a start. */
  private recheck: NodeJS.Timeout | undefined;

  constructor(
    readonly settings: PoolSettings,
    private readonly env: PoolEnv,
  ) {}

  get size(): number {
    return this.containers.size;
  }

  get queued(): number {
    return this.waiters.length;
  }

  get inFlight(): number {
    let n = 0;
    for (const c of this.containers) n += c.inFlight;
    return n;
  }

  /** True once a retired pool holds nothing: the agent may forget it. */
  get drained(): boolean {
    return this.retired && this.containers.size === 0 && this.starting === 0 && this.waiters.length === 0;
  }

  /** Containers that are alive and idle, for eviction by other pools. */
  idleContainers(): HotContainer[] {
    return [...this.containers].filter((c) => c.isIdle);
  }

  /**
   * Idle containers for eviction, each marked `kept` when removing it takes the pool below its minimum: the agent
   * evicts unkept ones first, and kept ones only when memory cannot be found otherwise (memory pressure wins; the
   * minimum comes back once memory is released).
   */
  evictionCandidates(): { c: HotContainer; kept: boolean }[] {
    const idle = this.idleContainers().sort((a, b) => b.idleSince - a.idleSince);
    let kept = this.retired ? 0 : Math.max(0, this.settings.minContainers - (this.containers.size - idle.length));
    return idle.map((c) => ({ c, kept: kept-- > 0 }));
  }

  /**
   * Starts containers with no call waiting until `count` are live or on their way (within max_containers): a deploy's
   * first container, or the fn's minimum. Never evicts: a start no call asked for waits for free memory, or (for a
   * deploy) is skipped.
   */
  prestart(count: number, reason: Exclude<LaunchReason, 'call'>): void {
    const s = this.settings;
    const target = Math.min(count, s.maxContainers);
    while (!this.closed && !this.retired && this.containers.size + this.starting < target) {
      if (!this.env.budget.tryReserve(s.memoryMiB)) {
        if (reason === 'minimum') this.waitForMemory();
        else this.env.metrics.prestarts.inc({ ...s.metricLabels, reason, outcome: 'skipped' });
        return;
      }
      this.launch(reason);
    }
  }

  /** A slot on a container for one call; waits (bounded) when every slot is taken. */
  async acquire(signal: CancelSignal): Promise<HotContainer> {
    if (this.closed) throw errors.serverBusy();
    const free = this.freeContainer();
    if (free) return this.take(free);
    // A call that a new container could serve is not queued beyond capacity: only waits past that count.
    const slotsToStart = Math.max(0, this.settings.maxContainers - this.containers.size) * this.settings.concurrency;
    if (this.waiters.length >= this.settings.maxQueue + slotsToStart) {
      this.env.metrics.rejected.inc(this.settings.metricLabels);
      throw errors.serverBusy();
    }
    const container = await new Promise<HotContainer>((resolve, reject) => {
      const expire = () => {
        // A container on its way may be this call's: wait for it (starts are bounded by the start timeout).
        if (this.starting > 0) {
          waiter.timer = setTimeout(expire, this.settings.startTimeoutMs);
          return;
        }
        this.removeWaiter(waiter);
        this.env.metrics.rejected.inc(this.settings.metricLabels);
        reject(errors.serverBusy());
      };
      const waiter: Waiter = {
        since: Date.now(),
        resolve,
        reject,
        signal,
        timer: setTimeout(expire, this.settings.queueTimeoutMs),
        onAbort: () => {
          this.removeWaiter(waiter);
          reject(new ClientGoneError());
        },
      };
      onCancel(signal, waiter.onAbort);
      this.waiters.push(waiter);
      this.scale();
    });
    return this.unpauseIfNeeded(container);
  }

  /** Gives a slot back after a clean call that took it at `takenMs` (epoch ms). */
  release(c: HotContainer, callId: string, takenMs?: number): void {
    c.inFlight--;
    c.callIds.delete(callId);
    if (takenMs !== undefined) this.timings.recordService(Date.now() - takenMs);
    this.settle(c);
    if (this.waiters.length > 0) this.scale();
  }

  /** After a slot frees up (or a container arrives with no one to serve): serve a waiter, or go idle. */
  private settle(c: HotContainer): void {
    if (!c.alive) {
      if (c.inFlight === 0) void this.discard(c);
      return;
    }
    this.serveWaiters();
    if (c.inFlight > 0) return;
    if (this.retired) {
      void this.discard(c);
      return;
    }
    c.idleSince = Date.now();
    // Timers are armed once and re-armed when they fire early, never per call: a hot container goes idle after
    // every call, and two timers set and cleared per call were a measurable share of a hot call (bench:profile).
    const { idleTimeoutMs, freezeIdleMs } = this.settings;
    c.idleTimer ??= this.whenIdleFor(c, idleTimeoutMs, idleTimeoutMs, (t) => (c.idleTimer = t), () => this.expireIdle(c));
    if (freezeIdleMs >= 0) {
      c.freezeTimer ??= this.whenIdleFor(c, freezeIdleMs, freezeIdleMs, (t) => (c.freezeTimer = t), () => void this.freeze(c));
    }
  }

  /**
   * A timer that runs `then` once `c` has been idle for `ms`: when it fires early (the container was used since) it
   * re-arms for the rest, and when the container is busy it ends (its next idle moment arms a new one). `set` keeps
   * the container's handle current.
   */
  private whenIdleFor(
    c: HotContainer, ms: number, after: number, set: (t: NodeJS.Timeout | undefined) => void, then: () => void,
  ): NodeJS.Timeout {
    return setTimeout(() => {
      set(undefined);
      if (!c.isIdle) return;
      const left = c.warming ? ms : c.idleSince + ms - Date.now();
      if (left > 0) set(this.whenIdleFor(c, ms, left, set, then));
      else then();
    }, after).unref();
  }

  /** Its idle timeout passed: removed, unless the pool would go below its minimum (it then stays until used again). */
  private expireIdle(c: HotContainer): void {
    if (!this.retired && !this.closed && this.containers.size <= this.settings.minContainers) return;
    void this.discard(c);
  }

  /** Removes a container for good: after a failure, an idle timeout, eviction, or at shutdown. */
  async discard(c: HotContainer): Promise<void> {
    if (!this.containers.delete(c)) return;
    c.clearTimers();
    c.stop();
    this.env.budget.release(c.memoryMiB);
    const removal = destroyContainer(this.env.driver, c, this.env.log);
    this.removals.add(removal);
    await removal;
    this.removals.delete(removal);
    this.scale();
  }

  /** A newer version of the function exists: keep serving the queued calls, but keep nothing idle. */
  retire(): void {
    this.retired = true;
    clearTimeout(this.minimumRetry);
    for (const c of this.idleContainers()) void this.discard(c);
  }

  /** Refuses waiting and new calls with 503 (shutdown). */
  rejectWaiters(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      offCancel(w.signal, w.onAbort);
      w.reject(errors.serverBusy());
    }
  }

  /** Removes every container, busy or not. */
  async close(): Promise<void> {
    this.rejectWaiters();
    clearTimeout(this.minimumRetry);
    clearTimeout(this.recheck);
    this.launchAbort.abort();
    await Promise.all([...this.containers].map((c) => this.discard(c)));
    await Promise.all(this.launches);
    await Promise.all(this.removals);
  }

  private freeContainer(): HotContainer | undefined {
    let best: HotContainer | undefined;
    for (const c of this.containers) {
      // Most recently used first, so surplus containers go idle and time out.
      if (c.hasFreeSlot && (!best || c.idleSince > best.idleSince)) best = c;
    }
    return best;
  }

  private take(c: HotContainer): Promise<HotContainer> {
    c.takeSlot();
    return this.unpauseIfNeeded(c);
  }

  private async unpauseIfNeeded(c: HotContainer): Promise<HotContainer> {
    if (c.state === 'paused') {
      c.moveTo('ready');
      await this.env.driver.unpause(c.id).catch((err: unknown) => this.env.log.warn({ err, container: c.name }, 'unpause failed'));
    }
    return c;
  }

  private async freeze(c: HotContainer): Promise<void> {
    if (!c.isIdle || c.state !== 'ready') return;
    c.moveTo('paused');
    await this.env.driver.pause(c.id).catch((err: unknown) => this.env.log.warn({ err, container: c.name }, 'pause failed'));
  }

  private removeWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
    clearTimeout(w.timer);
    offCancel(w.signal, w.onAbort);
  }

  /** Hands free slots to waiting calls, oldest first. */
  private serveWaiters(): void {
    for (let c = this.freeContainer(); c && this.waiters.length > 0; c = this.freeContainer()) {
      const w = this.waiters.shift() as Waiter;
      clearTimeout(w.timer);
      offCancel(w.signal, w.onAbort);
      c.takeSlot();
      w.resolve(c);
    }
  }

  /** Starts containers while waiting calls outnumber the slots on their way, within the limits. */
  private scale(): void {
    const s = this.settings;
    while (
      !this.closed &&
      this.waiters.length > this.starting * s.concurrency &&
      this.containers.size + this.starting < s.maxContainers &&
      this.worthStarting()
    ) {
      if (!this.env.budget.tryReserve(s.memoryMiB)) {
        if (this.env.evict(s.memoryMiB, this) && this.env.budget.tryReserve(s.memoryMiB)) {
          this.launch('call');
          continue;
        }
        this.waitForMemory();
        return;
      }
      this.launch('call');
    }
    this.keepMinimum();
  }

  /** Restores the fn's minimum of hot containers, unless a recent start for it failed (then a timer retries). */
  private keepMinimum(): void {
    if (this.settings.minContainers === 0 || this.minimumRetry !== undefined) return;
    this.prestart(this.settings.minContainers, 'minimum');
  }

  /** Whether the waiting calls should have another container, by the pool's rule (scale-out.ts). */
  private worthStarting(): boolean {
    if (this.settings.scaleOut === 'per-call') return true;
    const slots = (this.containers.size + this.starting) * this.settings.concurrency;
    const oldest = this.waiters[0];
    // A wait for a container that is starting anyway says nothing about the pool being too small: counted only when
    // every slot is live and taken (else a cold pool would start one container per waiting call, as per-call does).
    const waitedMs = oldest && this.starting === 0 ? Date.now() - oldest.since : 0;
    const containers = this.containers.size + this.starting;
    if (this.timings.worthStarting(this.waiters.length, slots, waitedMs, containers)) return true;
    if (!this.recheck && oldest) {
      this.recheck = setTimeout(() => {
        this.recheck = undefined;
        this.scale();
      }, Math.max(1, this.timings.expectedStartMs - waitedMs));
      this.recheck.unref();
    }
    return false;
  }

  private launch(reason: LaunchReason): void {
    const s = this.settings;
    const launchedMs = Date.now();
    this.starting++;
    this.env.metrics.coldStarts.inc(s.metricLabels);
    const launched = this.env.launch(s, this.launchAbort.signal, this.env.onOutput).then(
      (c) => {
        this.starting--;
        this.timings.recordStart(Date.now() - launchedMs);
        if (this.closed) {
          this.containers.add(c);
          void this.discard(c);
          return;
        }
        this.containers.add(c);
        if (reason !== 'call') this.env.metrics.prestarts.inc({ ...s.metricLabels, reason, outcome: 'started' });
        if (reason === 'minimum') this.minimumFailures = 0;
        void c.exited.then((info) => {
          if (c.state === 'stopping') return;
          this.env.log.warn({ container: c.name, exit_code: info.exitCode, oom_killed: info.oomKilled }, 'container exited');
          if (c.inFlight === 0) void this.discard(c);
        });
        // With no caller left to serve (it went away), the container stays idle until its timeout.
        this.settle(c);
        if (reason !== 'call') void this.warmUp(c);
      },
      (err: Error) => {
        this.starting--;
        this.env.budget.release(s.memoryMiB);
        if (reason !== 'call') {
          if (this.closed) return; // cut short by the shutdown
          // No call asked for this one: the failure is logged and counted, and waiting calls start their own.
          this.env.metrics.prestarts.inc({ ...s.metricLabels, reason, outcome: 'failed' });
          this.env.log.warn({ err, reason }, 'starting a container ahead of calls failed');
          if (reason === 'minimum') this.retryMinimumLater();
          this.scale();
          return;
        }
        // Only the call the container was started for gets the error; the others keep waiting (CONTRACT §1.4).
        const w = this.waiters.shift();
        if (w) {
          clearTimeout(w.timer);
          offCancel(w.signal, w.onAbort);
          w.reject(err);
        } else {
          this.env.log.warn({ err }, 'container start failed');
        }
        this.scale();
      },
    );
    this.launches.add(launched);
    void launched.finally(() => this.launches.delete(launched));
  }

  /**
   * Sends a container started ahead of calls warm-up calls (warm-up.ts), one at a time, until the first real call
   * takes it. They hold no slot: the container stays free, idle and evictable, and a call that comes while one is
   * under way goes out on the same connection right after it (undici queues it).
   */
  private async warmUp(c: HotContainer): Promise<void> {
    const n = this.settings.warmUpCalls;
    if (n === 0) return;
    await this.env.warmUp(this.settings.image, async () => {
      const startedMs = Date.now();
      let sent = 0;
      // Activity for the idle and freeze timers: a container is neither paused nor timed out while it warms up, and
      // its idle time counts from the warm-up's end.
      c.warming = true;
      try {
        while (sent < n && !c.served && c.alive && !this.closed && !this.retired) {
          const answered = await warmUpCall(c.client, sent);
          sent++;
          if (!answered) break;
        }
      } finally {
        c.warming = false;
        if (!c.served) c.idleSince = Date.now();
      }
      if (sent === 0) return;
      this.env.metrics.warmUpCalls.inc(this.settings.metricLabels, sent);
      this.env.log.debug({ container: c.name, calls: sent, ms: Date.now() - startedMs }, 'warm-up calls sent');
    }).catch((err: unknown) => this.env.log.warn({ err, container: c.name }, 'warm-up calls failed'));
  }

  private retryMinimumLater(): void {
    if (this.closed || this.retired) return;
    const delay = Math.min(MINIMUM_RETRY_MAX_MS, 1000 * 2 ** this.minimumFailures++);
    this.minimumRetry = setTimeout(() => {
      this.minimumRetry = undefined;
      this.scale();
    }, delay);
    this.minimumRetry.unref();
  }

  private waitForMemory(): void {
    if (this.waitingForMemory) return;
    this.waitingForMemory = true;
    this.env.budget.onRelease(() => {
      this.waitingForMemory = false;
      this.scale();
    });
  }
}
