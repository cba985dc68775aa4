/**
 * The server-wide memory budget: every container reserves its function's memory for its whole life
 * (as in Fn, CONTRACT §3.5). Pools that could not start a container wait for memory to be released.
 */
export class MemoryBudget {
  private used = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly totalMiB: number) {}

  get usedMiB(): number {
    return this.used;
  }

  tryReserve(mib: number): boolean {
    if (this.used + mib > this.totalMiB) return false;
    this.used += mib;
    return true;
  }

  release(mib: number): void {
    this.used = Math.max(0, this.used - mib);
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const wake of waiting) wake();
  }

  /** Calls `wake` once, the next time memory is released. */
  onRelease(wake: () => void): void {
    this.waiting.add(wake);
  }
}

/** Default budget: 90 % of the memory available when the server starts (MemAvailable on Linux). */
export function defaultMemoryBudgetMiB(meminfo: string | undefined, fallbackBytes: number): number {
  const m = meminfo ? /MemAvailable:\s+(\d+) kB/.exec(meminfo) : null;
  const availableMiB = m?.[1] ? Number(m[1]) / 1024 : fallbackBytes / 1024 / 1024;
  return Math.max(256, Math.floor(availableMiB * 0.9));
}
