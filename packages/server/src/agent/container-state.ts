/**
 * The lifecycle of one hot container as an explicit state machine. Every change of `HotContainer.state` goes
 * through `transition`, so a move not written in the table below is a bug caught where it happens.
 *
 *   starting ──▶ ready ◀──▶ paused
 *      │           │          │
 *      └───────────┴──────────┴──▶ stopping (final)
 */
export type ContainerState = 'starting' | 'ready' | 'paused' | 'stopping';

/** The allowed moves: from each state, the states it may go to. */
export const CONTAINER_TRANSITIONS: Readonly<Record<ContainerState, readonly ContainerState[]>> = Object.freeze({
  // Its FDK published the socket, or it failed to start.
  starting: ['ready', 'stopping'],
  // Paused after idling (FNTS_FREEZE_IDLE_MS), or removed (idle timeout, failure, eviction, shutdown).
  ready: ['paused', 'stopping'],
  // Unpaused for a call, or removed while paused.
  paused: ['ready', 'stopping'],
  stopping: [],
});

/** A move the table does not allow: a platform bug, never a function's doing. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly from: ContainerState,
    readonly to: ContainerState,
  ) {
    super(`illegal container state transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/** Whether the table allows `from -> to`. */
export function canTransition(from: ContainerState, to: ContainerState): boolean {
  return CONTAINER_TRANSITIONS[from].includes(to);
}

/** Returns `to` when the table allows the move; throws IllegalTransitionError otherwise. */
export function transition(from: ContainerState, to: ContainerState): ContainerState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}
