import { vi } from 'vitest';

/**
 * Resolves once the wall clock has passed `timestamp` (RFC 3339 with milliseconds, as the API writes it): a write
 * from now on gets a later timestamp, so a test can tell whether it moved `updated_at`.
 */
export async function clockPast(timestamp: string): Promise<void> {
  const t = Date.parse(timestamp);
  await vi.waitFor(
    () => {
      if (Date.now() <= t) throw new Error(`the clock has not passed ${timestamp}`);
    },
    { timeout: 1000, interval: 1 },
  );
}
