import { writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the server prints on stderr when it enters the dead-letter gap (tests wait for it, then kill the process). */
export const DEAD_LETTER_GAP_MARK = 'FNTS_TEST_DLQ_GAP';

/**
 * Test hook (FNTS_TEST_DLQ_GAP_MS, 0 = off): inside the dead-letter transaction, after the letters are appended and
 * before the offset is committed, the process says so on stderr and stalls, so a test can kill it exactly there.
 * Written straight to the file descriptor: the logger's buffer would die with the process.
 */
export async function deadLetterGap(ms: number): Promise<void> {
  if (ms <= 0) return;
  writeSync(2, `${DEAD_LETTER_GAP_MARK}\n`);
  await sleep(ms);
}

/** The same gap inside a synchronous (SQLite) transaction: the whole process stalls, as a slow disk would stall it. */
export function deadLetterGapSync(ms: number): void {
  if (ms <= 0) return;
  writeSync(2, `${DEAD_LETTER_GAP_MARK}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
