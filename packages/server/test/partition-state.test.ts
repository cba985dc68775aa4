import { describe, expect, it } from 'vitest';
import {
  canMove, PARTITION_MOVES, RefusedMoveError, transition, type PartitionState, type PartitionStateKind,
} from '../src/streams/engine/partition-state.js';

/** One state of each kind, as the worker makes them. */
const SAMPLE: Record<PartitionStateKind, PartitionState> = {
  IDLE: { kind: 'IDLE' },
  RUNNING: { kind: 'RUNNING' },
  RETRYING: { kind: 'RETRYING', attempt: 2, nextAt: '2026-01-01T00:00:00.000Z', lastError: 'boom', throttled: false },
  PAUSED: { kind: 'PAUSED' },
  BLOCKED: { kind: 'BLOCKED', reason: 'dead-letter write failed' },
};
const KINDS = Object.keys(SAMPLE) as PartitionStateKind[];

/** The moves, written out again here so that a change of the table is a deliberate change of this test too. */
const ALLOWED = new Set([
  'IDLE>IDLE', 'IDLE>RUNNING', 'IDLE>RETRYING', 'IDLE>PAUSED', 'IDLE>BLOCKED',
  'RUNNING>IDLE', 'RUNNING>RUNNING', 'RUNNING>RETRYING', 'RUNNING>PAUSED', 'RUNNING>BLOCKED',
  'RETRYING>IDLE', 'RETRYING>RUNNING', 'RETRYING>PAUSED', 'RETRYING>BLOCKED',
  'PAUSED>IDLE', 'PAUSED>PAUSED', 'PAUSED>BLOCKED',
  'BLOCKED>IDLE', 'BLOCKED>PAUSED',
]);
const pairs = KINDS.flatMap((from) => KINDS.map((to) => [from, to] as const));
const allowed = pairs.filter(([from, to]) => ALLOWED.has(`${from}>${to}`));
const refused = pairs.filter(([from, to]) => !ALLOWED.has(`${from}>${to}`));

describe('partition state machine', () => {
  it('lists every kind of state, with the allowed destinations of each', () => {
    expect(Object.keys(PARTITION_MOVES).sort()).toEqual([...KINDS].sort());
    expect(pairs.filter(([from, to]) => canMove(from, to)).map(([from, to]) => `${from}>${to}`).sort()).toEqual([...ALLOWED].sort());
  });

  it.each(allowed)('allows %s → %s and returns the new state as given', (from, to) => {
    expect(transition(SAMPLE[from], SAMPLE[to])).toBe(SAMPLE[to]);
  });

  it.each(refused)('refuses %s → %s with a platform error naming both states', (from, to) => {
    let thrown: unknown;
    try {
      transition(SAMPLE[from], SAMPLE[to]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RefusedMoveError);
    expect(thrown).toMatchObject({ status: 500, code: 'FNTS_ERR_STREAM_PARTITION_STATE', from, to });
    expect((thrown as Error).message).toBe(`a partition cannot move from ${from} to ${to}`);
  });

  it('keeps a blocked partition from sending or retrying until it is resumed or paused', () => {
    expect(canMove('BLOCKED', 'RUNNING')).toBe(false);
    expect(canMove('BLOCKED', 'RETRYING')).toBe(false);
    expect(canMove('BLOCKED', 'BLOCKED')).toBe(false);
  });

  it('keeps a paused partition from sending: a resume goes through IDLE first', () => {
    expect(canMove('PAUSED', 'RUNNING')).toBe(false);
    expect(canMove('PAUSED', 'RETRYING')).toBe(false);
    expect(canMove('PAUSED', 'IDLE')).toBe(true);
  });
});
