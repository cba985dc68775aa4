// Measurement helpers shared by the benchmarks: closed-loop load, percentiles, socket waits, table output, and the run
// scaffolding (cleanup, label sweep, JSON API client, polling, results file).
import { watch } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** Linux counts CPU time in ticks of 1/USER_HZ s; USER_HZ is 100. */
const TICK_US = 1e6 / 100;

/**
 * A process's CPU time so far (user, system) in µs, from /proc: what it really ran, where a profile's samples also
 * count time it spent descheduled.
 */
export async function cpuOf(pid: number): Promise<{ userUs: number; sysUs: number }> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { userUs: Number(fields[11]) * TICK_US, sysUs: Number(fields[12]) * TICK_US };
}

/** The whole machine's CPU time so far, busy and idle (every CPU summed), in µs, from /proc/stat. */
export async function machineCpu(): Promise<{ busyUs: number; idleUs: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] as string;
  // cpu user nice system idle iowait irq softirq steal ...
  const t = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (t[3] ?? 0) + (t[4] ?? 0);
  const all = t.reduce((a, b) => a + b, 0);
  return { busyUs: (all - idle) * TICK_US, idleUs: idle * TICK_US };
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

// ---------------------------------------------------------------------------------------------------------------
// Run scaffolding shared by the benchmarks written after invoke.ts (stream.ts): progress lines, ordered cleanup,
// label sweeps, a small JSON API client, bounded polling and the results file.

/** A progress line on stderr (stdout carries only the report). */
export const progress = (msg: string): void => void process.stderr.write(`· ${msg}\n`);

/** Where every benchmark writes its JSON (gitignored). */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes `bench/results/<kind>-<date>.json` and returns its path. */
export async function writeResults(kind: string, date: string, data: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${kind}-${date.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/**
 * Cleanup steps run once, in reverse order of registration, each failure reported and the rest still run.
 * `trapSigint` makes Ctrl-C run them too before exiting with 130.
 */
export class CleanupStack {
  private readonly steps: [string, () => Promise<unknown>][] = [];
  private done: Promise<void> | undefined;

  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push([what, run]);
  }

  run(): Promise<void> {
    return (this.done ??= (async () => {
      for (const [what, step] of [...this.steps].reverse()) {
        await step().catch((err: unknown) => console.error(`cleanup: could not ${what}: ${String(err)}`));
      }
    })());
  }

  trapSigint(): void {
    process.once('SIGINT', () => void this.run().finally(() => process.exit(130)));
  }
}

/** Minimal structural view of dockerode, so that this file needs no dockerode import. */
interface DockerLike {
  listContainers(opts: { all: boolean; filters: Record<string, string[]> }): Promise<{ Id: string }[]>;
  getContainer(id: string): { remove(opts: { force: boolean; v: boolean }): Promise<unknown> };
  listImages(opts: { filters: Record<string, string[]> }): Promise<{ Id: string }[]>;
  getImage(id: string): { remove(opts: { force: boolean }): Promise<unknown> };
}

/** Removes every container, then every image, carrying `label` (`key=value`); returns how many containers went. */
export async function removeLabelled(docker: DockerLike, label: string): Promise<number> {
  const filters = { label: [label] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const images = await docker.listImages({ filters });
  for (const img of images) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
  return containers.length;
}

/** Minimal structural view of an undici Pool/Client (request with a string body, text answer). */
interface RequestLike {
  request(opts: { path: string; method: string; headers?: Record<string, string>; body?: string }): Promise<{
    statusCode: number;
    body: { text(): Promise<string> };
  }>;
}

/** JSON calls to the server's API that fail on any status outside 2xx; a 204 gives undefined. */
export class JsonApi {
  constructor(private readonly http: RequestLike) {}

  async call<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await this.http.request({
      path, method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`${method} ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** The raw text of a 200 answer (NDJSON endpoints such as logs). */
  async text(path: string): Promise<string> {
    const res = await this.http.request({ path, method: 'GET' });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
    return text;
  }
}

/**
 * Calls `check` every `intervalMs` until it returns a value other than undefined, or `timeoutMs` passes
 * (then resolves to undefined). The first check runs at once.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, opts: { intervalMs: number; timeoutMs: number }): Promise<T | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(opts.intervalMs);
  }
}
