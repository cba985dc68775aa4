import { randomBytes } from 'node:crypto';
import { encodeTime, monotonicFactory } from 'ulid';

const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let at = 0;

/**
 * A cryptographic PRNG that reads from a pooled buffer: ulid's default draws from the system once per
 * character, which showed up as a measurable share of each invoke's CPU.
 */
function pooledRandom(): number {
  if (at + 4 > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    at = 0;
  }
  const n = pool.readUInt32BE(at);
  at += 4;
  return n / 0x1_0000_0000;
}

/** 26-character, lexically sortable ids (Fn's format), monotonic within a process. */
export const newId: () => string = monotonicFactory(pooledRandom);

/** The smallest id made at `ms` (epoch milliseconds): ids sort by time, so `id < idFloor(t)` means "made before t". */
export function idFloor(ms: number): string {
  return `${encodeTime(Math.max(0, Math.floor(ms)), 10)}${'0'.repeat(16)}`;
}
