import { FntsError } from '../../errors.js';
import { ERROR_CODE } from '@fnts/api/errors';

/** What a partition is doing, as `status` shows it (STREAMS.md §14). */
export type PartitionState =
  | { kind: 'IDLE' }
  | { kind: 'RUNNING' }
  | { kind: 'RETRYING'; attempt: number; nextAt: string; lastError: string; throttled: boolean }
  | { kind: 'PAUSED' }
  | { kind: 'BLOCKED'; reason: string };

export type PartitionStateKind = PartitionState['kind'];

/**
 * Every move a partition worker makes, from → allowed destinations. A move to the same kind is listed only where the
 * worker makes it (a commit while IDLE, a bisected batch sent again while RUNNING, a paused loop's next look).
 *
 * - IDLE: waiting for records. → RUNNING (a batch is sent), RETRYING (the rest of a partially failed batch waits),
 *   PAUSED, BLOCKED (a dead-letter write failed: expired or poison records), IDLE (a commit of filtered or dead letters).
 * - RUNNING: a batch call is in flight or just ended. → IDLE (committed, or nothing left), RUNNING (the next half of a
 *   bisected or too large batch), RETRYING (failed or throttled), PAUSED, BLOCKED.
 * - RETRYING: waiting out a backoff. → RUNNING (the retry), IDLE (the head moved on without a call: filtered or
 *   expired), PAUSED, BLOCKED (expired records cannot be dead-lettered).
 * - PAUSED: the trigger is paused. → IDLE (resumed), PAUSED, BLOCKED (the retried dead-letter write failed again).
 * - BLOCKED: a dead-letter write failed; nothing moves until a resume. → IDLE (resume), PAUSED.
 */
export const PARTITION_MOVES: Readonly<Record<PartitionStateKind, readonly PartitionStateKind[]>> = {
  IDLE: ['IDLE', 'RUNNING', 'RETRYING', 'PAUSED', 'BLOCKED'],
  RUNNING: ['IDLE', 'RUNNING', 'RETRYING', 'PAUSED', 'BLOCKED'],
  RETRYING: ['IDLE', 'RUNNING', 'PAUSED', 'BLOCKED'],
  PAUSED: ['IDLE', 'PAUSED', 'BLOCKED'],
  BLOCKED: ['IDLE', 'PAUSED'],
};

/** A move outside the table: a bug in the engine, never a user's mistake. */
export class RefusedMoveError extends FntsError {
  constructor(readonly from: PartitionStateKind, readonly to: PartitionStateKind) {
    super(500, ERROR_CODE.partitionState, `a partition cannot move from ${from} to ${to}`);
  }
}

/** Whether the table allows the move. */
export function canMove(from: PartitionStateKind, to: PartitionStateKind): boolean {
  return PARTITION_MOVES[from].includes(to);
}

/** The next state, when the table allows the move; a move outside it is a platform bug and throws. */
export function transition(from: PartitionState, to: PartitionState): PartitionState {
  if (!canMove(from.kind, to.kind)) {
    throw new RefusedMoveError(from.kind, to.kind);
  }
  return to;
}
