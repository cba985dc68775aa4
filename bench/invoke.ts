// Invoke benchmark: hot-call latency and throughput through /invoke against the same containers called directly
// over their sockets, the call after 1 s idle, and cold start against `docker run` of the same image.
// Run with `npm run bench:invoke`; see bench/README.md for what each figure means.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { Client, Pool } from 'undici';
import { dockerClient } from '@fnts/cli/dist/build/docker-build.js';
import { buildFunctionImage } from '@fnts/cli/dist/build/function-image.js';
import { startBareProxy } from './bare-proxy.js';
import { startNginxFront, type NginxFront } from './nginx-front.js';
import { serverEnv, startServerChild } from './server-child.js';
import { haveWrk, postScript, runWrk, type WrkResult } from './wrk.js';
import { scalingPhase, scalingTable } from './scaling.js';
import { BODY, callOver, dockerRun, expect200, SOCKET_NAME, type DockerRunTiming } from './baseline.js';
import {
  closedLoop, cpuOf, emptySamples, fmt, machineCpu, median, mergeInto, msSince, publishedSockets, removeLabelled, renderTable, sleep,
  summarize,
  type LatencySummary, type Samples,
} from './support.js';

/** How much work each phase does; sized so the whole run stays near 3 minutes on 2 cores. */
const PLAN = {
  // Hot means what V8 has optimized: a few hundred calls left the server (more code than the bare proxy) partly
  // unoptimized and moved the c=1 ratio by ±0.2 between runs; every path gets the same warm-up.
  hot: [
    { clients: 1, calls: 6000, warmup: 3000 },
    { clients: 2, calls: 6000, warmup: 2000 },
    { clients: 8, calls: 8000, warmup: 2000 },
  ],
  /** Server and direct blocks alternate this many times per level, so drift and noisy neighbours hit both alike. */
  rounds: 4,
  /** Cap on one measured block; a capped block is flagged in the output. */
  blockMaxMs: 5000,
  /** Cap on the warm-up of one level (it includes starting the level's extra containers). */
  warmupMaxMs: 15_000,
  /** Each scale-out rule at 8 clients, on its own server (bench/scaling.ts). */
  scaling: { calls: 3000, warmup: 800 },
  /** The same paths under wrk (bench/wrk.ts): seconds per block, alternating blocks per level. */
  wrk: { levels: [1, 8], seconds: 4, rounds: 3 },
  idleRepeats: 5,
  idlePauseMs: 1000,
  coldRepeats: 5,
  coldTimeoutMs: 20_000,
} as const;

const BENCH_LABEL = 'fnts.bench';
const FUNC_SOURCE = "import { handle } from '@fnts/fdk';\nhandle(async (input) => ({ ok: true, input }));\n";
const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results');

const progress = (msg: string): void => void process.stderr.write(`· ${msg}\n`);

/** The server's API, a call through /invoke, and a call straight to a container's socket. */
class Callers {
  private seq = 0;
  private readonly direct = new Map<string, Client>();

  constructor(private readonly http: Pool) {}

  async api<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> {
    const res = await this.http.request({ path, method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return JSON.parse(await expect200(res, `${method} ${path}`)) as T;
  }

  async invoke(fnId: string): Promise<string> {
    const res = await this.http.request({
      path: `/invoke/${fnId}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY,
    });
    return expect200(res, `POST /invoke/${fnId}`);
  }

  /** `POST /call` over a container's socket with the headers the agent sends, on a kept-alive connection. */
  async callSocket(socketPath: string): Promise<string> {
    let client = this.direct.get(socketPath);
    if (!client) {
      client = new Client('http://localhost', { socketPath, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
      this.direct.set(socketPath, client);
    }
    return callOver(client, `bench-${++this.seq}`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.direct.values()].map((c) => c.close()));
    await this.http.close();
  }
}

interface HotLevelResult {
  clients: number;
  /** Containers the server ran for the function during the measurement. */
  containers: number;
  server: LatencySummary;
  direct: LatencySummary;
  /** A bare node:http proxy (its own process) to the same sockets: the floor for any HTTP front. */
  bare: LatencySummary;
  /** nginx (one worker) to the same sockets: the floor for a native front. */
  nginx: LatencySummary;
  /** Sockets the direct clients were spread over (one client per container). */
  directSockets: number;
  p50Ratio: number;
  /** The c=1 direct throughput times the containers: what perfect scaling would give. */
  idealCallsPerS: number;
  truncated: boolean;
  /** CPU per call in µs (from /proc) over each path's blocks: the whole machine's, and the front process's own. */
  cpu: { direct: CpuPerCall; server: CpuPerCall; bare: CpuPerCall; nginx: CpuPerCall };
}

interface CpuPerCall {
  /** Every process's CPU (both cores), per call. */
  machineUs: number;
  /** Share of the machine's CPU time that was busy. */
  busyShare: number;
  /** The front's own process(es) (server, bare proxy, nginx's master and worker), per call; 0 for direct calls. */
  frontUs: number;
}

/** CPU used while blocks of one path run, summed over its blocks. */
class CpuTally {
  private busyUs = 0;
  private idleUs = 0;
  private frontUs = 0;
  private calls = 0;

  /** Runs one block and adds the CPU it took, the machine's and that of the `frontPids` together. */
  async block(frontPids: readonly number[], run: () => Promise<Samples>): Promise<Samples> {
    const front = async () => {
      let us = 0;
      for (const pid of frontPids) {
        const c = await cpuOf(pid);
        us += c.userUs + c.sysUs;
      }
      return us;
    };
    const [m0, f0] = [await machineCpu(), await front()];
    const samples = await run();
    const [m1, f1] = [await machineCpu(), await front()];
    this.busyUs += m1.busyUs - m0.busyUs;
    this.idleUs += m1.idleUs - m0.idleUs;
    this.frontUs += f1 - f0;
    this.calls += samples.latenciesMs.length;
    return samples;
  }

  get perCall(): CpuPerCall {
    return {
      machineUs: this.busyUs / this.calls, busyShare: this.busyUs / (this.busyUs + this.idleUs), frontUs: this.frontUs / this.calls,
    };
  }
}

/** Warms up, then alternates server and direct blocks at one concurrency level. */
async function hotLevel(
  callers: Callers, serverPid: number, fnId: string, iofsRoot: string, level: (typeof PLAN.hot)[number], directC1?: LatencySummary,
): Promise<HotLevelResult> {
  const { clients } = level;
  const warmStart = process.hrtime.bigint();
  const server = () => callers.invoke(fnId).then(() => undefined);
  let sockets = await publishedSockets(iofsRoot, SOCKET_NAME);
  // Keep warming until the pool stops growing (the scale-out rule decides how far: FNTS_SCALE_OUT), or the cap passes.
  let before: number;
  do {
    before = sockets.length;
    await closedLoop({ workers: clients, calls: level.warmup, maxMs: PLAN.warmupMaxMs, call: server });
    sockets = await publishedSockets(iofsRoot, SOCKET_NAME);
  } while (sockets.length !== before && msSince(warmStart) < PLAN.warmupMaxMs);
  const used = sockets.slice(0, clients);
  if (used.length === 0) throw new Error(`no container socket under ${iofsRoot} after warm-up`);
  const direct = (w: number) => callers.callSocket(used[w % used.length] as string).then(() => undefined);
  await closedLoop({ workers: clients, calls: level.warmup, maxMs: PLAN.warmupMaxMs, call: direct });
  progress(`c=${clients}: warm after ${(msSince(warmStart) / 1000).toFixed(1)} s with ${sockets.length} container(s); measuring`);

  const perBlock = Math.ceil(level.calls / PLAN.rounds);
  const s: Samples = emptySamples();
  const d: Samples = emptySamples();
  const b: Samples = emptySamples();
  const n: Samples = emptySamples();
  // A bare HTTP proxy over the same sockets shows the floor that any HTTP front pays for its extra hop, and nginx the
  // floor for a native one.
  const bare = await startBareProxy(used);
  const pools: Pool[] = [];
  /** A closed-loop call through a front at `url`, on kept-alive connections, `pipelining` calls deep on each. */
  const through = (url: string, what: string, connections: number, pipelining = 1) => {
    const pool = new Pool(url, { connections, pipelining, keepAliveTimeout: 60_000 });
    pools.push(pool);
    return async () => {
      const res = await pool.request({
        path: '/', method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, idempotent: pipelining > 1,
      });
      await expect200(res, what);
    };
  };
  let nginx: NginxFront | undefined;
  const cpu = { server: new CpuTally(), direct: new CpuTally(), bare: new CpuTally(), nginx: new CpuTally() };
  try {
    nginx = await startNginxFront(used);
    const viaBare = through(bare.url, 'bare proxy', clients);
    // nginx cannot queue a call for a busy container (the bare proxy queues it on the socket's undici client): one
    // connection per socket, with the calls of the clients beyond it pipelined on it (undici sends a POST down a
    // pipeline only when told it is idempotent). nginx serves a connection's calls one after another, so each is a
    // lane like the bare proxy's pinned connection, and the next call already waits in nginx (bench/nginx-front.ts).
    const viaNginx = through(nginx.url, 'nginx', used.length, Math.ceil(clients / used.length));
    for (const call of [viaBare, viaNginx]) await closedLoop({ workers: clients, calls: level.warmup, maxMs: PLAN.warmupMaxMs, call });
    for (let r = 0; r < PLAN.rounds; r++) {
      const order: [Samples, (w: number) => Promise<void>, CpuTally, readonly number[]][] = [
        [s, server, cpu.server, [serverPid]], [d, direct, cpu.direct, []], [b, viaBare, cpu.bare, [bare.pid]],
        [n, viaNginx, cpu.nginx, nginx.pids],
      ];
      if (r % 2 === 1) order.reverse();
      for (const [into, call, tally, pids] of order) {
        mergeInto(into, await tally.block(pids, () => closedLoop({ workers: clients, calls: perBlock, maxMs: PLAN.blockMaxMs, call })));
      }
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await nginx?.close();
    await bare.close();
  }
  const containers = (await publishedSockets(iofsRoot, SOCKET_NAME)).length;
  const serverSummary = summarize(s);
  const directSummary = summarize(d);
  return {
    clients,
    containers,
    server: serverSummary,
    direct: directSummary,
    directSockets: used.length,
    p50Ratio: serverSummary.p50Ms / directSummary.p50Ms,
    bare: summarize(b),
    nginx: summarize(n),
    idealCallsPerS: (directC1 ?? directSummary).callsPerS * containers,
    truncated: s.truncated || d.truncated || b.truncated || n.truncated,
    cpu: { direct: cpu.direct.perCall, server: cpu.server.perCall, bare: cpu.bare.perCall, nginx: cpu.nginx.perCall },
  };
}

interface WrkLevel {
  clients: number;
  sockets: number;
  server: WrkResult;
  bare: WrkResult;
}

/** The median of each figure over a path's blocks. */
function medianRun(runs: WrkResult[]): WrkResult {
  const m = (f: (r: WrkResult) => number) => median(runs.map(f));
  return { requests: runs.reduce((n, r) => n + r.requests, 0), callsPerS: m((r) => r.callsPerS), p50Ms: m((r) => r.p50Ms), p99Ms: m((r) => r.p99Ms), errors: 0, output: '' };
}

/**
 * The server and the bare proxy under wrk, a lean load generator in C, over the same containers. wrk cannot open a
 * Unix socket, so the direct path is not in this table; the bare proxy is the floor for an HTTP front here.
 */
async function wrkPhase(callers: Callers, fnId: string, serverUrl: string, iofsRoot: string, work: string): Promise<WrkLevel[]> {
  const script = await postScript(work, BODY);
  const out: WrkLevel[] = [];
  for (const clients of PLAN.wrk.levels) {
    const runs: Record<'server' | 'bare', WrkResult[]> = { server: [], bare: [] };
    let sockets = 0;
    // wrk stops with calls in flight, and the server kills a container whose caller left mid-call (as Fn does,
    // CONTRACT §2.4): before every block a clean warm-up through the server restores its containers, outside the
    // measured window, and the bare proxy is started over the containers alive at that moment.
    const block = async (path: 'server' | 'bare', seconds: number): Promise<WrkResult> => {
      await closedLoop({ workers: clients, calls: 200, maxMs: PLAN.warmupMaxMs, call: () => callers.invoke(fnId).then(() => undefined) });
      if (path === 'server') return runWrk({ url: `${serverUrl}/invoke/${fnId}`, script, connections: clients, seconds });
      // A container the server is still removing (its caller left mid-call in the block before) may keep its socket
      // file a moment: only sockets that answer a call now are taken.
      const published = await publishedSockets(iofsRoot, SOCKET_NAME);
      const answering = await Promise.all(published.map((p) => callers.callSocket(p).then(() => p, () => undefined)));
      const live = answering.filter((p) => p !== undefined).slice(0, clients);
      sockets = live.length;
      const bare = await startBareProxy(live);
      try {
        return await runWrk({ url: `${bare.url}/`, script, connections: clients, seconds });
      } finally {
        await bare.close();
      }
    };
    await block('server', 1);
    await block('bare', 1);
    for (let r = 0; r < PLAN.wrk.rounds; r++) {
      for (const path of r % 2 === 0 ? ['server', 'bare'] as const : ['bare', 'server'] as const) {
        const run = await block(path, PLAN.wrk.seconds);
        if (run.errors > 0) throw new Error(`wrk saw ${run.errors} errors on the ${path} path at ${clients} connection(s):\n${run.output}`);
        runs[path].push(run);
      }
    }
    const level = { clients, sockets, server: medianRun(runs.server), bare: medianRun(runs.bare) };
    out.push(level);
    progress(`wrk c=${clients}: server ${fmt(level.server.callsPerS, 0)}/s, bare ${fmt(level.bare.callsPerS, 0)}/s`);
  }
  return out;
}

function wrkTable(levels: readonly WrkLevel[]): string {
  const rows = levels.flatMap((l) => [
    [String(l.clients), 'server /invoke', String(l.server.requests), fmt(l.server.p50Ms, 3), fmt(l.server.p99Ms, 3), fmt(l.server.callsPerS, 0),
      `p50 ${fmt(l.server.p50Ms / l.bare.p50Ms)}×, calls/s ${fmt(l.server.callsPerS / l.bare.callsPerS)}× bare`],
    ['', `bare node proxy ×${l.sockets}`, String(l.bare.requests), fmt(l.bare.p50Ms, 3), fmt(l.bare.p99Ms, 3), fmt(l.bare.callsPerS, 0), ''],
  ]);
  return renderTable(['connections', 'path', 'calls', 'p50 ms', 'p99 ms', 'calls/s', 'server vs bare'], rows);
}

interface IdleResult {
  serverMs: number[];
  directMs: number[];
}

/** One call after each pause of 1 s, through the server and directly, alternating. */
async function idleCalls(callers: Callers, fnId: string, iofsRoot: string): Promise<IdleResult> {
  const socket = (await publishedSockets(iofsRoot, SOCKET_NAME))[0];
  if (!socket) throw new Error('no container socket for the idle calls');
  const out: IdleResult = { serverMs: [], directMs: [] };
  for (let i = 0; i < PLAN.idleRepeats; i++) {
    for (const viaServer of i % 2 === 0 ? [true, false] : [false, true]) {
      await sleep(PLAN.idlePauseMs);
      const t0 = process.hrtime.bigint();
      if (viaServer) await callers.invoke(fnId);
      else await callers.callSocket(socket);
      (viaServer ? out.serverMs : out.directMs).push(msSince(t0));
    }
  }
  return out;
}

interface ColdResult {
  /** POST /v2/fns of a new function with the image, then its first /invoke (deploy → first response). */
  newFn: { totalMs: number; deployMs: number; firstCallMs: number }[];
  /** PUT /v2/fns/{id} with a changed config, then the first /invoke (the old container is removed meanwhile). */
  update: { totalMs: number; deployMs: number; firstCallMs: number }[];
  dockerRun: DockerRunTiming[];
}

/** Times deploy → first response against `docker run` of the same image, in rotating order. */
async function coldStarts(
  callers: Callers, docker: Docker, appId: string, image: string, labels: Record<string, string>, work: string,
): Promise<ColdResult> {
  const out: ColdResult = { newFn: [], update: [], dockerRun: [] };
  const fnBody = { image, memory: 128, timeout: 30, idle_timeout: 3600 };
  const updated = await callers.api<{ id: string }>('POST', '/v2/fns', { ...fnBody, app_id: appId, name: 'cold-update' });
  await callers.invoke(updated.id); // its first container, which each update replaces
  const deployThenCall = async (deploy: () => Promise<string>) => {
    const t0 = process.hrtime.bigint();
    const fnId = await deploy();
    const deployMs = msSince(t0);
    await callers.invoke(fnId);
    const totalMs = msSince(t0);
    return { totalMs, deployMs, firstCallMs: totalMs - deployMs };
  };
  const kinds = [
    async (i: number) => {
      out.newFn.push(await deployThenCall(async () =>
        (await callers.api<{ id: string }>('POST', '/v2/fns', { ...fnBody, app_id: appId, name: `cold-${i}` })).id));
    },
    async (i: number) => {
      out.update.push(await deployThenCall(async () =>
        (await callers.api<{ id: string }>('PUT', `/v2/fns/${updated.id}`, { config: { BENCH_ROUND: String(i) } })).id));
    },
    async (i: number) => {
      out.dockerRun.push(await dockerRun(docker, image, {
        name: `fnts-bench-${labels[BENCH_LABEL]}-run-${i}`, labels, work, callId: `bench-baseline-${i}`, timeoutMs: PLAN.coldTimeoutMs,
      }));
    },
  ];
  for (let i = 0; i < PLAN.coldRepeats; i++) {
    // Rotate the order so that no kind always runs right after another's container removal.
    for (let k = 0; k < kinds.length; k++) {
      await (kinds[(i + k) % kinds.length] as (i: number) => Promise<void>)(i);
      await sleep(200); // let the previous kind's background work (removals, logs) settle
    }
  }
  return out;
}

function hotTable(levels: HotLevelResult[]): string {
  const rows: string[][] = [];
  const c1 = levels[0];
  for (const l of levels) {
    const tput = (s: LatencySummary) => fmt(s.callsPerS, 0);
    rows.push([String(l.clients), String(l.containers), 'server /invoke', String(l.server.calls), fmt(l.server.p50Ms, 3),
      fmt(l.server.p99Ms, 3), fmt(l.server.meanMs, 3), tput(l.server), '']);
    rows.push(['', '', `direct socket ×${l.directSockets}`, String(l.direct.calls), fmt(l.direct.p50Ms, 3),
      fmt(l.direct.p99Ms, 3), fmt(l.direct.meanMs, 3), tput(l.direct),
      `p50 ${fmt(l.p50Ratio)}×, calls/s ${fmt(l.server.callsPerS / l.direct.callsPerS)}×`]);
    rows.push(['', '', `bare node proxy ×${l.directSockets}`, String(l.bare.calls), fmt(l.bare.p50Ms, 3), fmt(l.bare.p99Ms, 3),
      fmt(l.bare.meanMs, 3), tput(l.bare), `server p50 ${fmt(l.server.p50Ms / l.bare.p50Ms)}×, calls/s ${fmt(l.server.callsPerS / l.bare.callsPerS)}× bare;`
        + ` bare calls/s ${fmt(l.bare.callsPerS / l.direct.callsPerS)}× direct`]);
    rows.push(['', '', `nginx ×${l.directSockets}`, String(l.nginx.calls), fmt(l.nginx.p50Ms, 3), fmt(l.nginx.p99Ms, 3),
      fmt(l.nginx.meanMs, 3), tput(l.nginx), `server calls/s ${fmt(l.server.callsPerS / l.nginx.callsPerS)}× nginx;`
        + ` nginx p50 ${fmt(l.nginx.p50Ms / l.direct.p50Ms)}×, calls/s ${fmt(l.nginx.callsPerS / l.direct.callsPerS)}× direct`]);
    if (l.clients > 1 && c1) {
      rows.push(['', '', `ideal c=1 direct ×${l.containers}`, '', '', '', '', fmt(l.idealCallsPerS, 0),
        `server calls/s ${fmt(l.server.callsPerS / l.idealCallsPerS)}× of ideal`]);
    }
  }
  return renderTable(['clients', 'containers', 'path', 'calls', 'p50 ms', 'p99 ms', 'mean ms', 'calls/s', 'server vs baseline'], rows);
}

function cpuTable(levels: readonly HotLevelResult[]): string {
  const cell = (c: CpuPerCall) => `${fmt(c.machineUs, 0)} (${fmt(100 * c.busyShare, 0)}% busy)`;
  return renderTable(['clients', 'direct: machine', 'server: machine', 'server process', 'bare: machine', 'bare process',
    'nginx: machine', 'nginx processes'],
  levels.map((l) => [String(l.clients), cell(l.cpu.direct), cell(l.cpu.server), fmt(l.cpu.server.frontUs, 0),
    cell(l.cpu.bare), fmt(l.cpu.bare.frontUs, 0), cell(l.cpu.nginx), fmt(l.cpu.nginx.frontUs, 0)]));
}

/**
 * What 0.85× of the direct calls/s at 8 clients allows a front to spend: with both cores busy, calls/s is the cores'
 * time over the CPU per call, so the front may add at most (1/0.85 − 1) of the direct path's CPU per call.
 */
function cpuBudget(l: HotLevelResult): string {
  const budget = l.cpu.direct.machineUs * (1 / 0.85 - 1);
  return `at ${l.clients} clients, 0.85× direct calls/s leaves a front ${fmt(budget, 0)} µs of CPU per call `
    + `(${fmt(l.cpu.direct.machineUs, 0)} µs × 0.18, the machine ${fmt(100 * l.cpu.direct.busyShare, 0)}% busy on direct calls); `
    + `the server process spends ${fmt(l.cpu.server.frontUs, 0)} µs, the bare proxy ${fmt(l.cpu.bare.frontUs, 0)} µs, `
    + `nginx ${fmt(l.cpu.nginx.frontUs, 0)} µs`;
}

function coldTable(cold: ColdResult, idle: IdleResult): string {
  const med = (xs: number[]) => fmt(median(xs), 1);
  const dockerMed = median(cold.dockerRun.map((t) => t.totalMs));
  const rows = [
    ['idle 1 s → call, server', med(idle.serverMs), `min ${fmt(Math.min(...idle.serverMs), 1)} max ${fmt(Math.max(...idle.serverMs), 1)}`,
      `${fmt(median(idle.serverMs) / median(idle.directMs))}× direct`],
    ['idle 1 s → call, direct socket', med(idle.directMs), `min ${fmt(Math.min(...idle.directMs), 1)} max ${fmt(Math.max(...idle.directMs), 1)}`, ''],
    ['cold: new fn → first response', med(cold.newFn.map((t) => t.totalMs)),
      `deploy ${med(cold.newFn.map((t) => t.deployMs))} + call ${med(cold.newFn.map((t) => t.firstCallMs))}`,
      `${fmt(median(cold.newFn.map((t) => t.totalMs)) / dockerMed)}× docker run`],
    ['cold: fn update → first response', med(cold.update.map((t) => t.totalMs)),
      `deploy ${med(cold.update.map((t) => t.deployMs))} + call ${med(cold.update.map((t) => t.firstCallMs))}`,
      `${fmt(median(cold.update.map((t) => t.totalMs)) / dockerMed)}× docker run`],
    ['cold: docker run → first response', med(cold.dockerRun.map((t) => t.totalMs)),
      `create ${med(cold.dockerRun.map((t) => t.createMs))} + attach/start ${med(cold.dockerRun.map((t) => t.attachStartMs))}` +
        ` + socket ${med(cold.dockerRun.map((t) => t.socketMs))} + call ${med(cold.dockerRun.map((t) => t.firstCallMs))}`, ''],
  ];
  return renderTable(['measure (median)', 'ms', 'detail (medians, ms)', 'ratio'], rows);
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const runId = randomBytes(4).toString('hex');
  const label = `${BENCH_LABEL}=${runId}`;
  const labels = { [BENCH_LABEL]: runId };
  const work = await mkdtemp(join(tmpdir(), `fnts-bench-${runId}-`));
  const serverDir = join(work, 'server');
  const iofsRoot = join(serverDir, 'iofs');
  const docker = dockerClient(process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock');
  const loadBefore = loadavg();
  const cleanups: [string, () => Promise<unknown>][] = [
    ['remove the work dir', () => rm(work, { recursive: true, force: true })],
    ['remove labelled containers and images', async () => {
      // The server removes its own containers when it closes; anything left here is worth knowing about.
      const left = await removeLabelled(docker, label);
      if (left > 0) console.error(`cleanup: removed ${left} container(s) still labelled ${label}`);
    }],
  ];
  const env = {
    node: process.version,
    cpus: availableParallelism(),
    date: new Date().toISOString(),
    docker: ((await docker.version()) as { Version?: string }).Version ?? 'unknown',
  };
  console.log(`fnts invoke benchmark  run ${runId}  ${env.date}  node ${env.node}  ${env.cpus} CPUs  docker ${env.docker}`);
  console.log(`load average at start: ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
  let cleaned: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaned ??= (async () => {
      for (const [what, run] of [...cleanups].reverse()) {
        await run().catch((err: unknown) => console.error(`cleanup: could not ${what}: ${String(err)}`));
      }
      progress(`done in ${(msSince(started) / 1000).toFixed(1)} s, cleanup included`);
    })());
  // Ctrl-C still removes the containers and the image.
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    const funcDir = join(work, 'func');
    await mkdir(funcDir);
    await writeFile(join(funcDir, 'func.ts'), FUNC_SOURCE);
    let t = process.hrtime.bigint();
    const { image } = await buildFunctionImage(docker, {
      dir: funcDir, version: '0.0.1', labels,
      func: { schema_version: 20180708, name: `fnts-bench-${runId}`, version: '0.0.1', runtime: 'typescript' },
    });
    progress(`built ${image} in ${(msSince(t) / 1000).toFixed(1)} s`);

    await mkdir(serverDir);
    const server = await startServerChild({
      env: serverEnv(serverDir, label, { FNTS_MAX_CONTAINERS_PER_FN: '8' }), passStderr: true,
    });
    cleanups.push(['stop the server', () => server.stop()]);
    const callers = new Callers(new Pool(server.url, { connections: 16, keepAliveTimeout: 60_000 }));
    cleanups.push(['close the clients', () => callers.close()]);

    const benchApp = await callers.api<{ id: string }>('POST', '/v2/apps', { name: `bench-${runId}` });
    const fn = await callers.api<{ id: string }>('POST', '/v2/fns', {
      app_id: benchApp.id, name: 'noop', image, memory: 128, timeout: 30, idle_timeout: 3600,
    });
    t = process.hrtime.bigint();
    const first = await callers.invoke(fn.id);
    if (!first.includes('"ok":true')) throw new Error(`unexpected function output: ${first}`);
    progress(`first call (cold) ${msSince(t).toFixed(0)} ms: ${first}`);

    const hot: HotLevelResult[] = [];
    for (const level of PLAN.hot) {
      hot.push(await hotLevel(callers, server.pid, fn.id, iofsRoot, level, hot[0]?.direct));
    }
    let wrk: WrkLevel[] | undefined;
    if (haveWrk()) {
      progress('the same paths under wrk');
      wrk = await wrkPhase(callers, fn.id, server.url, iofsRoot, work);
    } else {
      progress('wrk is not installed (scripts/setup.sh installs it): no wrk table');
    }
    progress('scaling out at 8 clients');
    const scaling = await scalingPhase({
      image, work, label, clients: 8, calls: PLAN.scaling.calls, warmup: PLAN.scaling.warmup, rounds: PLAN.rounds,
      blockMaxMs: PLAN.blockMaxMs, progress,
    });
    progress('idle calls');
    const idle = await idleCalls(callers, fn.id, iofsRoot);
    progress('cold starts');
    const cold = await coldStarts(callers, docker, benchApp.id, image, labels, work);

    const runtimeS = msSince(started) / 1000;
    const loadAfter = loadavg();
    const c1 = hot[0] as HotLevelResult;
    const coldRatio = median(cold.newFn.map((x) => x.totalMs)) / median(cold.dockerRun.map((x) => x.totalMs));
    const c8 = hot.find((l) => l.clients === 8);
    const wrk1 = wrk?.find((l) => l.clients === 1);
    const wrk8 = wrk?.find((l) => l.clients === 8);
    const target = (name: string, ratio: number, bound: number, atMost: boolean) =>
      ({ name, ratio, bound: `${atMost ? '≤' : '≥'} ${bound}×`, met: atMost ? ratio <= bound : ratio >= bound });
    const targets = [
      target('hot p50 at 1 client, server ÷ bare proxy', c1.server.p50Ms / c1.bare.p50Ms, 1.2, true),
      ...(wrk1 ? [target('hot p50 at 1 connection under wrk, server ÷ bare proxy', wrk1.server.p50Ms / wrk1.bare.p50Ms, 1.2, true)] : []),
      ...(c8 ? [target('calls/s at 8 clients, server ÷ direct socket (same containers)', c8.server.callsPerS / c8.direct.callsPerS, 0.85, false)] : []),
      ...(c8 ? [target('  the floor: bare proxy ÷ direct socket at 8 clients', c8.bare.callsPerS / c8.direct.callsPerS, 0.85, false)] : []),
      ...(c8 ? [target('  the floor for a native front: nginx ÷ direct socket at 8 clients', c8.nginx.callsPerS / c8.direct.callsPerS, 0.85, false)] : []),
      ...(wrk8 ? [target('calls/s at 8 connections under wrk, server ÷ bare proxy', wrk8.server.callsPerS / wrk8.bare.callsPerS, 0.85, false)] : []),
      target('cold start of a new typescript fn ÷ docker run of its image', coldRatio, 0.3, true),
    ];
    console.log('\nHot calls, closed loop from a node client (the server, the bare proxy and nginx are processes of their own; direct = POST /call on the container socket)');
    console.log(hotTable(hot));
    if (c8) console.log(`nginx ÷ direct calls/s at 8 clients: ${fmt(c8.nginx.callsPerS / c8.direct.callsPerS)}×, the floor for a native front`
      + ` (bare node proxy ${fmt(c8.bare.callsPerS / c8.direct.callsPerS)}×, server ${fmt(c8.server.callsPerS / c8.direct.callsPerS)}×)`);
    if (hot.some((l) => l.truncated)) console.log('(some blocks hit their time cap before their call count)');
    console.log('c=2 and c=8: the server scales out by its rule (FNTS_SCALE_OUT, default expected-wait);');
    console.log('the direct rows spread the same clients over the same containers, one connection per socket.');
    console.log('\nCPU per call, µs (from /proc over each path\'s blocks): the machine\'s (both cores), and the front process\'s own (nginx: master and worker)');
    console.log(cpuTable(hot));
    if (c8) console.log(cpuBudget(c8));
    if (wrk) {
      console.log(`\nThe same paths under wrk (one thread; ${PLAN.wrk.rounds} alternating blocks of ${PLAN.wrk.seconds} s, medians; wrk cannot open a Unix socket, so no direct row)`);
      console.log(wrkTable(wrk));
    }
    console.log('\nScaling out at 8 clients (one server per rule, alternating blocks)');
    console.log(scalingTable(scaling));
    console.log('\nIdle and cold start');
    console.log(coldTable(cold, idle));
    console.log('\nTargets');
    for (const t of targets) console.log(`  ${t.name}: ${fmt(t.ratio)}× (${t.bound}) ${t.met ? 'met' : 'NOT MET'}`);
    console.log(`\nload average at end: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}; measured in ${runtimeS.toFixed(1)} s`);

    await mkdir(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `invoke-${env.date.replace(/[:.]/g, '-')}.json`);
    const result = { runId, ...env, loadavg: { start: loadBefore, end: loadAfter }, plan: PLAN, image, hot, wrk, scaling, idle, cold, targets, runtimeS };
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`results: ${file}`);
  } finally {
    await cleanUp();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
