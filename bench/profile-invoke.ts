// Where a hot call's server time goes: runs the server as its own process under `node --cpu-prof`, drives hot
// `/invoke` calls at it from this process (so the client's own work is not in the profile), and prints the server's
// CPU time per call by area (fnts files, each package, node internals, GC) and its heaviest functions.
// Run with `npm run bench:profile [-- <calls> <clients>]`; see bench/README.md.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { dockerClient } from '@fnts/cli/dist/build/docker-build.js';
import { buildFunctionImage } from '@fnts/cli/dist/build/function-image.js';
import { startBareProxy } from './bare-proxy.js';
import { BODY, expect200, SOCKET_NAME } from './baseline.js';
import { startServerChild } from './server-child.js';
import { closedLoop, CleanupStack, cpuOf, fmt, progress, publishedSockets, removeLabelled, renderTable, summarize } from './support.js';

const BENCH_LABEL = 'fnts.bench';
const FUNC_SOURCE = "import { handle } from '@fnts/fdk';\nhandle(async (input) => ({ ok: true, input }));\n";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  /** Microseconds on the monotonic clock, which process.hrtime reads too (the same machine). */
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The area a frame's time is charged to: an fnts file, a package, a node internal module, or V8's own. */
function areaOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : `native ${fn || '(anonymous)'}`;
  const ours = /\/packages\/([^/]+)\/dist\/(.+)\.js$/.exec(url);
  if (ours) return `fnts ${ours[1]}/${ours[2]}`;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/.*$/, '');
  return url;
}

/** Self time by area and by function between two monotonic times (µs), idle apart. */
function selfTimes(p: CpuProfile, fromUs: number, toUs: number): { byArea: Map<string, number>; byFn: Map<string, number>; idleUs: number; totalUs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i] as number);
    const dt = p.timeDeltas[i] ?? 0;
    at += dt;
    if (!node || at < fromUs || at > toUs) continue;
    totalUs += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += dt;
      continue;
    }
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + dt);
    const fn = `${functionName || '(anonymous)'} ${url ? `${areaOf(url, functionName)}:${lineNumber + 1}` : ''}`.trim();
    byFn.set(fn, (byFn.get(fn) ?? 0) + dt);
  }
  return { byArea, byFn, idleUs, totalUs };
}

function table(map: Map<string, number>, calls: number, busyUs: number, top: number): string {
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => [name, fmt(us / calls, 2), fmt((100 * us) / busyUs, 1)]);
  return renderTable(['where', 'µs per call', '% of busy'], rows);
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 20_000);
  const clients = Number(process.argv[3] ?? 1);
  const runId = randomBytes(4).toString('hex');
  const label = `${BENCH_LABEL}=${runId}`;
  const work = await mkdtemp(join(tmpdir(), `fnts-profile-${runId}-`));
  const profDir = join(work, 'prof');
  const cleanup = new CleanupStack();
  cleanup.add('remove the work dir', () => rm(work, { recursive: true, force: true }));
  const docker = dockerClient(process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock');
  cleanup.add('remove labelled containers and images', () => removeLabelled(docker, label));
  try {
    const funcDir = join(work, 'func');
    await mkdir(funcDir);
    await writeFile(join(funcDir, 'func.ts'), FUNC_SOURCE);
    const { image } = await buildFunctionImage(docker, {
      dir: funcDir, version: '0.0.1', labels: { [BENCH_LABEL]: runId },
      func: { schema_version: 20180708, name: `fnts-profile-${runId}`, version: '0.0.1', runtime: 'typescript' },
    });
    // SIGINT: the server closes cleanly (its containers removed) and node writes the profile as it exits.
    const server = await startServerChild({
      env: {
        FNTS_DB: ':memory:', FNTS_LOG_LEVEL: 'warn', FNTS_IOFS_DIR: join(work, 'iofs'), FNTS_CONTAINER_LABELS: label,
        FNTS_MAX_CONTAINERS_PER_FN: String(Math.max(1, clients)),
      },
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
      passStderr: true,
    });
    const { url } = server;
    const stopServer = () => server.stop('SIGINT');
    cleanup.add('stop the server', stopServer);
    const http = new Pool(url, { connections: Math.max(2, clients), keepAliveTimeout: 60_000 });
    cleanup.add('close the client', () => http.close().catch(() => undefined));
    const api = async (path: string, body: unknown) => JSON.parse(await expect200(
      await http.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), path)) as { id: string };
    const app = await api('/v2/apps', { name: `profile-${runId}` });
    const fn = await api('/v2/fns', { app_id: app.id, name: 'noop', image, memory: 128, timeout: 30, idle_timeout: 3600 });
    const invoke = async () => {
      await expect200(await http.request({ path: `/invoke/${fn.id}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY }), 'invoke');
    };
    await closedLoop({ workers: clients, calls: 2000, maxMs: 30_000, call: invoke });
    progress(`warm; profiling ${calls} calls with ${clients} client(s)`);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const cpuBefore = await cpuOf(server.pid);
    const measured = summarize(await closedLoop({ workers: clients, calls, maxMs: 120_000, call: invoke }));
    const cpuAfter = await cpuOf(server.pid);
    const toUs = Number(process.hrtime.bigint() / 1000n);
    // The baseline in the same run: the bare proxy's CPU per call over the same containers, the same client loop.
    const bare = await startBareProxy((await publishedSockets(join(work, 'iofs'), SOCKET_NAME)).slice(0, Math.max(1, clients)));
    cleanup.add('stop the bare proxy', () => bare.close());
    const bareHttp = new Pool(bare.url, { connections: Math.max(2, clients), keepAliveTimeout: 60_000 });
    const viaBare = async () => {
      await expect200(await bareHttp.request({ path: '/', method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY }), 'bare');
    };
    await closedLoop({ workers: clients, calls: 2000, maxMs: 30_000, call: viaBare });
    const bareBefore = await cpuOf(bare.pid);
    const bareMeasured = summarize(await closedLoop({ workers: clients, calls, maxMs: 120_000, call: viaBare }));
    const bareAfter = await cpuOf(bare.pid);
    await bareHttp.close();
    await http.close();
    await stopServer();
    const file = (await readdir(profDir).catch(() => [] as string[])).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the server wrote no profile');
    const profile = JSON.parse(await readFile(join(profDir, file), 'utf8')) as CpuProfile;
    // Only the samples of the measured calls: start-up, deploy and warm-up are left out.
    const { byArea, byFn, idleUs, totalUs } = selfTimes(profile, fromUs, toUs);
    const busyUs = totalUs - idleUs;
    const n = measured.calls;
    console.log(`server CPU profile: ${n} hot calls (${clients} client(s)), p50 ${fmt(measured.p50Ms, 3)} ms, ` +
      `${fmt(measured.callsPerS, 0)} calls/s; server busy ${fmt(busyUs / n, 1)} µs and idle ${fmt(idleUs / n, 1)} µs per call`);
    const user = (cpuAfter.userUs - cpuBefore.userUs) / n;
    const sys = (cpuAfter.sysUs - cpuBefore.sysUs) / n;
    console.log(`server CPU actually used (from /proc): ${fmt(user + sys, 1)} µs per call (user ${fmt(user, 1)}, system ${fmt(sys, 1)})`);
    const bareN = bareMeasured.calls;
    const bareUs = (bareAfter.userUs - bareBefore.userUs + bareAfter.sysUs - bareBefore.sysUs) / bareN;
    console.log(`bare proxy, same containers and client (baseline): ${fmt(bareUs, 1)} µs CPU per call `
      + `(user ${fmt((bareAfter.userUs - bareBefore.userUs) / bareN, 1)}, system ${fmt((bareAfter.sysUs - bareBefore.sysUs) / bareN, 1)}), `
      + `p50 ${fmt(bareMeasured.p50Ms, 3)} ms; server ÷ bare CPU per call ${fmt((user + sys) / bareUs)}×`);
    console.log(table(byArea, n, busyUs, 30));
    console.log('\nheaviest functions (self time)');
    console.log(table(byFn, n, busyUs, Number(process.env.BENCH_PROFILE_TOP ?? 40)));
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
