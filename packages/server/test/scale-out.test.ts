import { describe, expect, it } from 'vitest';
import { PoolTimings } from '../src/agent/scale-out.js';

describe('the expected-wait rule (pure part)', () => {
  it('starts the first container at once, and before any call has ended only for a wait as long as a start', () => {
    const t = new PoolTimings(1);
    expect(t.worthStarting(1, 0, 0, 0)).toBe(true);
    expect(t.worthStarting(8, 1, 10, 1)).toBe(false);
    expect(t.worthStarting(8, 1, t.expectedStartMs, 1)).toBe(true);
  });

  it('starts one container per core for waiting calls whatever their wait', () => {
    const t = new PoolTimings(2);
    t.recordStart(250);
    t.recordService(1);
    expect(t.worthStarting(8, 1, 0, 1)).toBe(true);
    expect(t.worthStarting(8, 2, 0, 2)).toBe(false);
    expect(t.worthStarting(0, 1, 0, 1)).toBe(false);
  });

  it('keeps short calls queued on the containers there are, and scales out for calls slower than a start', () => {
    const t = new PoolTimings(1);
    t.recordStart(250);
    for (let i = 0; i < 20; i++) t.recordService(1);
    expect(t.expectedStartMs).toBe(250);
    // Eight calls of 1 ms on one container: the last waits ~8 ms, far less than a start.
    expect(t.worthStarting(8, 1, 5, 1)).toBe(false);
    const slow = new PoolTimings(1);
    slow.recordStart(250);
    slow.recordService(700);
    // The second of two calls of 700 ms would wait longer than a start: a container of its own.
    expect(slow.worthStarting(2, 1, 0, 1)).toBe(true);
    // With enough slots for every waiting call within a start, no more.
    expect(slow.worthStarting(1, 1, 0, 1)).toBe(true);
    const quick = new PoolTimings(1);
    quick.recordStart(250);
    quick.recordService(100);
    expect(quick.worthStarting(2, 1, 0, 1)).toBe(false);
    expect(quick.worthStarting(6, 2, 0, 2)).toBe(true);
  });
});
