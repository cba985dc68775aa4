import { Client, Pool, type Dispatcher } from 'undici';
import { transition, type ContainerState } from './container-state.js';
import type { ExitInfo } from './docker.js';

export type { ContainerState } from './container-state.js';

/** One running function container: the unit a pool hands out, serving up to `concurrency` calls at once. */
export class HotContainer {
  private current: ContainerState = 'starting';
  inFlight = 0;
  /** Set once a call has taken a slot: warm-up calls (warm-up.ts) stop then. */
  served = false;
  /** Warm-up calls are under way: the idle and freeze timers wait (they take no slot, so it still counts as idle). */
  warming = false;
  /** Calls being served, for tagging the function's log lines when there is exactly one. */
  readonly callIds = new Set<string>();
  /** When the last call ended (ms since epoch); eviction takes the longest-idle first. */
  idleSince = Date.now();
  idleTimer: NodeJS.Timeout | undefined;
  freezeTimer: NodeJS.Timeout | undefined;
  /** Set once the container has stopped on its own (crash, OOM kill). */
  exitInfo: ExitInfo | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly socketDir: string,
    readonly client: Dispatcher,
    /** Resolves when the container stops for any reason. */
    readonly exited: Promise<ExitInfo>,
    readonly concurrency: number,
    readonly memoryMiB: number,
  ) {
    void exited.then((info) => {
      this.exitInfo = info;
    });
  }

  /** A call takes one of its slots (and so ends any warm-up). */
  takeSlot(): void {
    this.inFlight++;
    this.served = true;
  }

  get state(): ContainerState {
    return this.current;
  }

  /** Moves to `to` when the lifecycle table allows it (container-state.ts); throws on any other move. */
  moveTo(to: ContainerState): void {
    this.current = transition(this.current, to);
  }

  /** Moves to `stopping` unless it is there already: every way a container ends goes through here once. */
  stop(): void {
    if (this.current !== 'stopping') this.moveTo('stopping');
  }

  get alive(): boolean {
    return (this.state === 'ready' || this.state === 'paused') && this.exitInfo === undefined;
  }

  get hasFreeSlot(): boolean {
    return this.alive && this.inFlight < this.concurrency;
  }

  get isIdle(): boolean {
    return this.alive && this.inFlight === 0;
  }

  /** The call id to tag output with: only unambiguous while one call runs. */
  get soleCallId(): string | undefined {
    return this.callIds.size === 1 ? [...this.callIds][0] : undefined;
  }

  clearTimers(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.freezeTimer);
    this.idleTimer = undefined;
    this.freezeTimer = undefined;
  }
}

/** A keep-alive HTTP client over the container's unix socket; the deadline is enforced by the agent, not here. */
export function socketClient(socketPath: string, concurrency: number): Dispatcher {
  const options = { socketPath, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 };
  // One connection per concurrent call (http-stream allows no pipelining); a plain Client when there is one.
  return concurrency === 1 ? new Client('http://localhost', options) : new Pool('http://localhost', { ...options, connections: concurrency });
}
