// Measurement helpers shared by the benchmarks: closed-loop load, percentiles, socket waits, table output.
import { watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds since `start` (a process.hrtime.bigint() reading), with sub-microsecond precision. */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Latency and throughput of one measured block (or several merged). */
export interface LatencySummary {
  calls: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Completed calls per second of wall time spent in the measured loops. */
  callsPerS: number;
  wallMs: number;
}

/** The raw outcome of closed-loop blocks, before summarising. */
export interface Samples {
  latenciesMs: number[];
  wallMs: number;
  /** True when a block stopped at its time cap before reaching its call count. */
  truncated: boolean;
}

export function emptySamples(): Samples {
  return { latenciesMs: [], wallMs: 0, truncated: false };
}

export function mergeInto(into: Samples, block: Samples): void {
  for (const x of block.latenciesMs) into.latenciesMs.push(x);
  into.wallMs += block.wallMs;
  into.truncated ||= block.truncated;
}

export function summarize(s: Samples): LatencySummary {
  const sorted = [...s.latenciesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    calls: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: sorted.length ? sum / sorted.length : Number.NaN,
    maxMs: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    callsPerS: s.wallMs > 0 ? (sorted.length * 1000) / s.wallMs : Number.NaN,
    wallMs: s.wallMs,
  };
}

/**
 * Runs `calls` calls with `workers` concurrent workers, each starting its next call as soon as the previous one
 * answers (a closed loop). Stops early at `maxMs`. Any failed call fails the block.
 */
export async function closedLoop(opts: {
  workers: number;
  calls: number;
  maxMs: number;
  call: (worker: number) => Promise<void>;
}): Promise<Samples> {
  const latenciesMs: number[] = [];
  let issued = 0;
  let truncated = false;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(opts.maxMs * 1e6));
  const worker = async (w: number): Promise<void> => {
    while (issued < opts.calls) {
      if (process.hrtime.bigint() > deadline) {
        truncated = true;
        return;
      }
      issued++;
      const t0 = process.hrtime.bigint();
      await opts.call(w);
      latenciesMs.push(msSince(t0));
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  return { latenciesMs, wallMs: msSince(started), truncated };
}

/** Resolves once `dir/name` is a unix socket (following a symlink), watching the dir; rejects after `timeoutMs`. */
export function waitForSocket(dir: string, name: string, timeoutMs: number): Promise<void> {
  const path = join(dir, name);
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let checking = false;
    let again = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve();
    };
    // One stat at a time; an event during a stat asks for one more.
    const check = async (): Promise<void> => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      do {
        again = false;
        const s = await stat(path).catch(() => undefined);
        if (s?.isSocket()) finish();
      } while (again && !done);
      checking = false;
    };
    const watcher = watch(dir, () => void check());
    watcher.on('error', (err) => finish(err));
    const timer = setTimeout(() => finish(new Error(`no socket at ${path} after ${timeoutMs} ms`)), timeoutMs);
    void check(); // covers a socket made before the watch was armed
  });
}

/** Socket paths (`<root>/<server id>/iofs*\/<name>`) of the containers that have published one. */
export async function publishedSockets(root: string, name: string): Promise<string[]> {
  const found: string[] = [];
  for (const server of await readdir(root).catch(() => [])) {
    for (const dir of await readdir(join(root, server)).catch(() => [])) {
      if (!dir.startsWith('iofs')) continue;
      const path = join(root, server, dir, name);
      const s = await stat(path).catch(() => undefined);
      if (s?.isSocket()) found.push(path);
    }
  }
  return found.sort();
}

/** Renders rows as left-aligned text columns separated by two spaces. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A number for the table: fixed decimals, or an en dash when absent. */
export function fmt(n: number | undefined, digits = 2): string {
  return n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits);
}
