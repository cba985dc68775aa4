import { describe, expect, it } from 'vitest';
import { isoFormatter } from '../src/iso-time.js';

describe('isoFormatter', () => {
  it('writes what toISOString writes, across seconds, minutes, days and years, in any order', () => {
    const format = isoFormatter();
    const bases = [Date.UTC(2026, 11, 1, 5, 59, 59, 990), Date.UTC(1999, 11, 31, 23, 59, 58, 500), 0, -1500, Date.UTC(2024, 1, 29, 0, 0, 0, 0)];
    const times: number[] = [];
    for (const base of bases) for (let i = -70; i < 70_000; i += 7) times.push(base + i);
    for (let i = 0; i < 20_000; i++) times.push(Math.floor(Math.random() * 4_000_000_000_000));
    for (const ms of times) expect(format(ms)).toBe(new Date(ms).toISOString());
    // A time seen again, and going back in time.
    for (const ms of [...times].reverse().slice(0, 5000)) expect(format(ms)).toBe(new Date(ms).toISOString());
  });

  it('leaves years past 9999, fractions of a ms, and invalid times to toISOString', () => {
    const format = isoFormatter();
    for (const ms of [253402300800000, 8.64e15, -62198755200000, 1234.5, Date.UTC(2026, 0, 1) + 0.25]) {
      expect(format(ms)).toBe(new Date(ms).toISOString());
    }
    expect(() => format(NaN)).toThrow(RangeError);
    expect(() => format(8.64e15 + 1)).toThrow(RangeError);
  });
});
