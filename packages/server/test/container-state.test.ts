import { describe, expect, it } from 'vitest';
import {
  CONTAINER_TRANSITIONS, IllegalTransitionError, canTransition, transition, type ContainerState,
} from '../src/agent/container-state.js';
import { HotContainer } from '../src/agent/hot-container.js';
import type { Dispatcher } from 'undici';

const STATES: ContainerState[] = ['starting', 'ready', 'paused', 'stopping'];
const ALLOWED = new Set(['starting>ready', 'starting>stopping', 'ready>paused', 'ready>stopping', 'paused>ready', 'paused>stopping']);

describe('container lifecycle table', () => {
  it('allows exactly the written moves and rejects every other pair', () => {
    for (const from of STATES) {
      for (const to of STATES) {
        const key = `${from}>${to}`;
        expect(canTransition(from, to), key).toBe(ALLOWED.has(key));
        if (ALLOWED.has(key)) expect(transition(from, to)).toBe(to);
        else expect(() => transition(from, to), key).toThrow(IllegalTransitionError);
      }
    }
  });

  it('makes stopping final', () => {
    expect(CONTAINER_TRANSITIONS.stopping).toEqual([]);
  });

  it('names both ends of an illegal move', () => {
    expect(() => transition('stopping', 'ready')).toThrow('illegal container state transition stopping -> ready');
  });
});

describe('HotContainer state', () => {
  const container = () => new HotContainer('id', 'name', '/nonexistent', {} as Dispatcher, new Promise(() => undefined), 1, 128);

  it('starts in starting, is alive only once ready, and stops once however often it is stopped', () => {
    const c = container();
    expect(c.state).toBe('starting');
    expect(c.alive).toBe(false);
    c.moveTo('ready');
    expect(c.alive).toBe(true);
    c.moveTo('paused');
    expect(c.alive).toBe(true);
    c.stop();
    c.stop();
    expect(c.state).toBe('stopping');
    expect(c.alive).toBe(false);
  });

  it('refuses a move the table does not allow and keeps its state', () => {
    const c = container();
    expect(() => c.moveTo('paused')).toThrow(IllegalTransitionError);
    expect(c.state).toBe('starting');
  });
});
