import { Client } from 'undici';
import type { Logger } from 'pino';
import type { ExitInfo } from './docker.js';

export type ContainerState = 'idle' | 'busy' | 'stopping';

const TRANSITIONS: Record<ContainerState, readonly ContainerState[]> = {
  idle: ['busy', 'stopping'],
  busy: ['idle', 'stopping'],
  stopping: [],
};

/** One running function container that has published its socket: the unit a pool hands out. */
export class HotContainer {
  private stateValue: ContainerState = 'idle';
  /** The call being served, for tagging the function's log lines. */
  currentCallId: string | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  /** Set once the container has stopped on its own (crash, OOM kill). */
  exitInfo: ExitInfo | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly socketDir: string,
    readonly client: Client,
    /** Resolves when the container stops for any reason. */
    readonly exited: Promise<ExitInfo>,
    private readonly log: Logger,
  ) {
    void exited.then((info) => {
      this.exitInfo = info;
    });
  }

  get state(): ContainerState {
    return this.stateValue;
  }

  /** Guarded transition; returns false (and changes nothing) for a move the state machine forbids. */
  transition(to: ContainerState): boolean {
    if (!TRANSITIONS[this.stateValue].includes(to)) return false;
    this.log.debug({ container: this.name, from: this.stateValue, to }, 'container state');
    this.stateValue = to;
    return true;
  }
}

/** A keep-alive HTTP client over the container's unix socket; the deadline is enforced by the agent, not here. */
export function socketClient(socketPath: string): Client {
  return new Client('http://localhost', {
    socketPath,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
  });
}
