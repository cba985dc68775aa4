// Scaling out at 8 clients: the same hot function under each scale-out rule (FNTS_SCALE_OUT) and with a declared
// per-container concurrency, each on its own server process, measured in alternating blocks (bench/README.md).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import { BODY, expect200, SOCKET_NAME } from './baseline.js';
import { serverEnv, startServerChild } from './server-child.js';
import {
  closedLoop, emptySamples, fmt, mergeInto, publishedSockets, renderTable, summarize, type LatencySummary, type Samples,
} from './support.js';

export interface ScalingVariant {
  name: string;
  scaleOut: 'expected-wait' | 'per-call';
  /** The function's declared `concurrency` (calls one container serves at once). */
  concurrency: number;
}

export const SCALING_VARIANTS: readonly ScalingVariant[] = [
  { name: 'per-call: a container per waiting call', scaleOut: 'per-call', concurrency: 1 },
  { name: 'expected-wait', scaleOut: 'expected-wait', concurrency: 1 },
  { name: 'expected-wait, fn concurrency 4', scaleOut: 'expected-wait', concurrency: 4 },
];

export interface ScalingResult {
  variant: ScalingVariant;
  containers: number;
  summary: LatencySummary;
  truncated: boolean;
}

interface Running {
  variant: ScalingVariant;
  iofs: string;
  samples: Samples;
  close(): Promise<void>;
  call(): Promise<void>;
}

/** Starts one server per variant, warms each at `clients`, then alternates measured blocks across them. */
export async function scalingPhase(opts: {
  image: string;
  work: string;
  label: string;
  clients: number;
  calls: number;
  warmup: number;
  rounds: number;
  blockMaxMs: number;
  progress: (msg: string) => void;
}): Promise<ScalingResult[]> {
  const running: Running[] = [];
  try {
    for (const [i, variant] of SCALING_VARIANTS.entries()) {
      const dir = join(opts.work, `scaling-${i}`);
      await mkdir(dir);
      const server = await startServerChild({
        env: serverEnv(dir, opts.label, { FNTS_MAX_CONTAINERS_PER_FN: String(opts.clients), FNTS_SCALE_OUT: variant.scaleOut }),
        passStderr: true,
      });
      const iofs = join(dir, 'iofs');
      const http = new Pool(server.url, { connections: 16, keepAliveTimeout: 60_000 });
      const post = async (path: string, body: string) =>
        expect200(await http.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body }), `POST ${path}`);
      const appId = (JSON.parse(await post('/v2/apps', JSON.stringify({ name: `scaling-${i}` }))) as { id: string }).id;
      const fnId = (JSON.parse(await post('/v2/fns', JSON.stringify({
        app_id: appId, name: 'noop', image: opts.image, memory: 128, timeout: 30, idle_timeout: 3600, concurrency: variant.concurrency,
      }))) as { id: string }).id;
      const call = async () => void (await post(`/invoke/${fnId}`, BODY));
      running.push({ variant, iofs, samples: emptySamples(), call, close: async () => {
        await http.close();
        await server.stop();
      } });
      // Warm until the pool stops growing: each rule settles on its own number of containers.
      let before = -1;
      let now = 0;
      for (let pass = 0; pass < 6 && now !== before; pass++) {
        before = now;
        await closedLoop({ workers: opts.clients, calls: opts.warmup, maxMs: 15_000, call });
        now = (await publishedSockets(iofs, SOCKET_NAME)).length;
      }
      opts.progress(`scaling: ${variant.name}: warm with ${now} container(s)`);
    }
    const perBlock = Math.ceil(opts.calls / opts.rounds);
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 === 0 ? running : [...running].reverse();
      for (const v of order) {
        mergeInto(v.samples, await closedLoop({ workers: opts.clients, calls: perBlock, maxMs: opts.blockMaxMs, call: v.call }));
      }
    }
    const out: ScalingResult[] = [];
    for (const v of running) {
      out.push({
        variant: v.variant, containers: (await publishedSockets(v.iofs, SOCKET_NAME)).length,
        summary: summarize(v.samples), truncated: v.samples.truncated,
      });
    }
    return out;
  } finally {
    for (const v of running) await v.close().catch(() => undefined);
  }
}

/** The scaling table: each rule's containers, latency and throughput, against one container per waiting call. */
export function scalingTable(results: readonly ScalingResult[]): string {
  const perCall = results.find((r) => r.variant.scaleOut === 'per-call' && r.variant.concurrency === 1);
  const rows = results.map((r) => [
    r.variant.name, String(r.containers), String(r.summary.calls), fmt(r.summary.p50Ms, 3), fmt(r.summary.p99Ms, 3),
    fmt(r.summary.callsPerS, 0), perCall ? `calls/s ${fmt(r.summary.callsPerS / perCall.summary.callsPerS)}×` : '',
  ]);
  return renderTable(['rule (8 clients)', 'containers', 'calls', 'p50 ms', 'p99 ms', 'calls/s', 'vs per-call'], rows);
}
