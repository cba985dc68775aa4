import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';

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
