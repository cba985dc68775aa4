// "Did you mean": typos a person makes are near; different words are not.
import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../src/closest-match.js';

describe('closest match', () => {
  it('counts a swap of neighbouring letters as one edit', () => {
    expect([editDistance('memroy', 'memory'), editDistance('typescipt', 'typescript'), editDistance('', 'abc'), editDistance('same', 'same')])
      .toEqual([1, 1, 3, 0]);
  });

  it('suggests near words, a word it starts, and nothing for unrelated ones', () => {
    const keys = ['name', 'type', 'source', 'options', 'syslog_url', 'memory', 'idle_timeout'];
    expect(closestMatch('memroy', keys)).toBe('memory');
    expect(closestMatch('Memory', keys)).toBe('memory');
    expect(closestMatch('idle_timout', keys)).toBe('idle_timeout');
    expect(closestMatch('syslog', keys)).toBe('syslog_url');
    expect(closestMatch('typ', keys)).toBe('type');
    expect(closestMatch('colour', keys)).toBeUndefined();
    expect(closestMatch('x', keys)).toBeUndefined();
  });
});
