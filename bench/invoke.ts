// Invoke benchmark: hot-call latency and throughput through /invoke against the same containers called directly
// over their sockets, the call after 1 s idle, and cold start against `docker run` of the same image.
// Run with `npm run bench:invoke`; see bench/README.md for what each figure means.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { Client, Pool } from 'undici';
import { buildApp, loadConfig } from '@fnts/server';
import { dockerClient } from '@fnts/cli/dist/build/docker-build.js';
import { buildFunctionImage } from '@fnts/cli/dist/build/function-image.js';
import { startBareProxy } from './bare-proxy.js';
import { scalingPhase, scalingTable } from './scaling.js';
import { BODY, callOver, dockerRun, expect200, SOCKET_NAME, type DockerRunTiming } from './baseline.js';
import {
  closedLoop, emptySamples, fmt, median, mergeInto, msSince, publishedSockets, removeLabelled, renderTable, sleep, summarize,
  type LatencySummary, type Samples,
} from './support.js';

/** How much work each phase does; sized so the whole run stays well under 3 minutes on 2 cores. */
const PLAN = {
  hot: [
    { clients: 1, calls: 2000, warmup: 300 },
    { clients: 2, calls: 3000, warmup: 400 },
    { clients: 8, calls: 4000, warmup: 800 },
  ],
  /** Server and direct blocks alternate this many times per level, so drift and noisy neighbours hit both alike. */
  rounds: 4,
  /** Cap on one measured block; a capped block is flagged in the output. */
  blockMaxMs: 5000,
  /** Cap on the warm-up of one level (it includes starting the level's extra containers). */
  warmupMaxMs: 15_000,
  /** Each scale-out rule at 8 clients, on its own server (bench/scaling.ts). */
  scaling: { calls: 3000, warmup: 800 },
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
  /** c=1 only: a bare node:http proxy to the same socket, the floor for any HTTP front. */
  bare?: LatencySummary;
  /** Sockets the direct clients were spread over (one client per container). */
  directSockets: number;
  p50Ratio: number;
  /** The c=1 direct throughput times the containers: what perfect scaling would give. */
  idealCallsPerS: number;
  truncated: boolean;
}

/** Warms up, then alternates server and direct blocks at one concurrency level. */
async function hotLevel(
  callers: Callers, fnId: string, iofsRoot: string, level: (typeof PLAN.hot)[number], directC1?: LatencySummary,
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
  // At c=1, a bare HTTP proxy to the same socket shows the floor that any HTTP front pays for its extra hop.
  const bare = clients === 1 ? await startBareProxy(used[0] as string) : undefined;
  const bareClient = bare ? new Pool(bare.url, { connections: 1, keepAliveTimeout: 60_000 }) : undefined;
  const viaBare = async () => {
    const res = await (bareClient as Pool).request({ path: '/', method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    await expect200(res, 'bare proxy');
  };
  if (bareClient) await closedLoop({ workers: 1, calls: level.warmup, maxMs: PLAN.warmupMaxMs, call: viaBare });
  try {
    for (let r = 0; r < PLAN.rounds; r++) {
      const order: [Samples, (w: number) => Promise<void>][] = [[s, server], [d, direct], ...(bareClient ? [[b, viaBare] as [Samples, () => Promise<void>]] : [])];
      if (r % 2 === 1) order.reverse();
      for (const [into, call] of order) {
        mergeInto(into, await closedLoop({ workers: clients, calls: perBlock, maxMs: PLAN.blockMaxMs, call }));
      }
    }
  } finally {
    await bareClient?.close();
    await bare?.close();
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
    ...(bareClient ? { bare: summarize(b) } : {}),
    idealCallsPerS: (directC1 ?? directSummary).callsPerS * containers,
    truncated: s.truncated || d.truncated,
  };
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
    if (l.bare) {
      rows.push(['', '', 'bare node proxy ×1', String(l.bare.calls), fmt(l.bare.p50Ms, 3), fmt(l.bare.p99Ms, 3),
        fmt(l.bare.meanMs, 3), tput(l.bare), `server p50 ${fmt(l.server.p50Ms / l.bare.p50Ms)}× bare, bare ${fmt(l.bare.p50Ms / l.direct.p50Ms)}× direct`]);
    }
    if (l.clients > 1 && c1) {
      rows.push(['', '', `ideal c=1 direct ×${l.containers}`, '', '', '', '', fmt(l.idealCallsPerS, 0),
        `server calls/s ${fmt(l.server.callsPerS / l.idealCallsPerS)}× of ideal`]);
    }
  }
  return renderTable(['clients', 'containers', 'path', 'calls', 'p50 ms', 'p99 ms', 'mean ms', 'calls/s', 'server vs baseline'], rows);
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
  const iofsRoot = join(work, 'iofs');
  const config = loadConfig({
    FNTS_DB: ':memory:', FNTS_LOG_LEVEL: 'warn', FNTS_IOFS_DIR: iofsRoot, FNTS_CONTAINER_LABELS: label,
    FNTS_MAX_CONTAINERS_PER_FN: '8', DOCKER_HOST: process.env.DOCKER_HOST,
  });
  const docker = dockerClient(config.dockerSocketPath);
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

    const app = await buildApp({ config });
    cleanups.push(['close the server', () => app.close()]);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const callers = new Callers(new Pool(`http://127.0.0.1:${port}`, { connections: 16, keepAliveTimeout: 60_000 }));
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
      hot.push(await hotLevel(callers, fn.id, iofsRoot, level, hot[0]?.direct));
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
    const bareRatio = c1.bare ? c1.server.p50Ms / c1.bare.p50Ms : Number.NaN;
    const c8Ratio = c8 ? c8.server.callsPerS / c8.direct.callsPerS : Number.NaN;
    const targets = {
      hotP50: { ratio: c1.p50Ratio, max: 1.5, met: c1.p50Ratio <= 1.5 },
      hotP50Bare: { ratio: bareRatio, max: 1.2, met: bareRatio <= 1.2 },
      callsPerSC8: { ratio: c8Ratio, min: 0.85, met: c8Ratio >= 0.85 },
      coldStart: { ratio: coldRatio, max: 0.3, met: coldRatio <= 0.3 },
    };
    console.log('\nHot calls, closed loop (client and server share this process; direct = POST /call on the container socket)');
    console.log(hotTable(hot));
    if (hot.some((l) => l.truncated)) console.log('(some blocks hit their time cap before their call count)');
    console.log('c=2 and c=8: the server scales out by its rule (FNTS_SCALE_OUT, default expected-wait);');
    console.log('the direct rows spread the same clients over the same containers, one connection per socket.');
    console.log('\nScaling out at 8 clients (one server per rule, alternating blocks)');
    console.log(scalingTable(scaling));
    console.log('\nIdle and cold start');
    console.log(coldTable(cold, idle));
    console.log('\nTargets');
    console.log(`  hot p50 server/direct at c=1: ${fmt(targets.hotP50.ratio)}× (≤ 1.5×) ${targets.hotP50.met ? 'met' : 'NOT MET'}`);
    console.log(`  hot p50 server/bare proxy at c=1: ${fmt(targets.hotP50Bare.ratio)}× (≤ 1.2×) ${targets.hotP50Bare.met ? 'met' : 'NOT MET'}`);
    console.log(`  calls/s server/direct at c=8: ${fmt(targets.callsPerSC8.ratio)}× (≥ 0.85×) ${targets.callsPerSC8.met ? 'met' : 'NOT MET'}`);
    console.log(`  cold start new fn/docker run: ${fmt(targets.coldStart.ratio)}× (≤ 0.3×, typescript/node; issue 16) ${targets.coldStart.met ? 'met' : 'NOT MET'}`);
    console.log(`\nload average at end: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}; measured in ${runtimeS.toFixed(1)} s`);

    await mkdir(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `invoke-${env.date.replace(/[:.]/g, '-')}.json`);
    const result = { runId, ...env, loadavg: { start: loadBefore, end: loadAfter }, plan: PLAN, image, hot, scaling, idle, cold, targets, runtimeS };
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
