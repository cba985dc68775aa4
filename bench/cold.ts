// Cold-start benchmark: a new typescript function's first response with stem cells on and off, the first call after
// a deploy that warmed the new version, and `docker run` of the same image, all in one run and in rotating order.
// With stem cells off a cold start takes the path of a `runtime: docker` image: the engine's create and start. When
// the engine has crun registered, that path is measured with the server's runtime choice (crun) and with the engine's
// default (FNTS_DOCKER_RUNTIME=default), and `docker run` with crun is shown beside the baseline.
// Run with `npm run bench:cold`; see bench/README.md.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { buildApp, DockerDriver, loadConfig } from '@fnts/server';
import { dockerClient } from '@fnts/cli/dist/build/docker-build.js';
import { buildFunctionImage } from '@fnts/cli/dist/build/function-image.js';
import { BODY, dockerRun, expect200 } from './baseline.js';
import { fmt, median, msSince, progress, removeLabelled, renderTable, sleep } from './support.js';

/** Rounds of every case; BENCH_COLD_ROUNDS sets more for tighter medians. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_COLD_ROUNDS) || 7);
/**
 * The hot p50 is taken after HOT_WARMUP calls: a fresh container's node process needs about a thousand calls before
 * its call path runs at full speed, and 200 calls (this bench's earlier figure) left it at 2–3× a hot call.
 */
const HOT_WARMUP = 2000;
const HOT_CALLS = 500;
/**
 * The first call after a deploy is made this long after its warm-up ended, and the hot reference "after idle" is
 * made this long after the call before it: a call after a pause wakes sleeping processes, which back-to-back calls
 * never do, and costs a few times a back-to-back call even on a fully hot container.
 */
const IDLE_GAP_MS = 300;
const FUNC_SOURCE = "import { handle } from '@fnts/fdk';\nhandle(async (input) => ({ ok: true, input }));\n";

/** One in-process server on a loopback port, with its HTTP client. */
async function server(env: Record<string, string>, label: string, iofs: string) {
  const app = await buildApp({
    config: loadConfig({
      FNTS_DB: ':memory:', FNTS_LOG_LEVEL: 'warn', FNTS_IOFS_DIR: iofs, FNTS_CONTAINER_LABELS: label,
      DOCKER_HOST: process.env.DOCKER_HOST, ...env,
    }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const http = new Pool(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, { connections: 4 });
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await http.request({
      path, method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await expect200(res, `${method} ${path}`);
    return (path === '/metrics' ? text : JSON.parse(text)) as T;
  };
  const invoke = (fnId: string) =>
    http.request({ path: `/invoke/${fnId}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })
      .then((res) => expect200(res, 'invoke'));
  /** Polls /metrics until the sum of a series matching `match` is at least `n`. */
  const metricAtLeast = async (name: string, match: string, n: number) => {
    for (let i = 0; i < 600; i++) {
      const text = await api<string>('GET', '/metrics');
      const sum = text.split('\n').filter((l) => l.startsWith(name) && l.includes(match))
        .reduce((acc, l) => acc + Number(l.split(' ').pop()), 0);
      if (sum >= n) return;
      await sleep(20);
    }
    throw new Error(`${name}{${match}} never reached ${n}`);
  };
  const close = async () => {
    await http.close();
    await app.close();
  };
  return { api, invoke, metricAtLeast, close };
}

async function main(): Promise<void> {
  if (process.env.NODE_EXTRA_CA_CERTS) progress('NODE_EXTRA_CA_CERTS is set: every node start pays for it; unset it for timings');
  const runId = randomBytes(4).toString('hex');
  const label = `fnts.bench=${runId}`;
  const labels = { 'fnts.bench': runId };
  const work = await mkdtemp(join(tmpdir(), `fnts-bench-cold-${runId}-`));
  const docker = dockerClient(process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock');
  console.log(`fnts cold-start benchmark  run ${runId}  ${new Date().toISOString()}  node ${process.version}  ${availableParallelism()} CPUs`);
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const servers: { close(): Promise<void> }[] = [];
  try {
    const funcDir = join(work, 'func');
    await mkdir(funcDir);
    await writeFile(join(funcDir, 'func.ts'), FUNC_SOURCE);
    const { image } = await buildFunctionImage(docker, {
      dir: funcDir, version: '0.0.1', labels,
      func: { schema_version: 20180708, name: `fnts-bench-cold-${runId}`, version: '0.0.1', runtime: 'typescript' },
    });
    const stems = await server({ FNTS_STEM_CELLS: '2', FNTS_WARM_ON_DEPLOY: 'false' }, label, join(work, 'iofs-a'));
    servers.push(stems);
    const plain = await server({ FNTS_STEM_CELLS: '0', FNTS_WARM_ON_DEPLOY: 'false' }, label, join(work, 'iofs-b'));
    servers.push(plain);
    // What the server's own choice (FNTS_DOCKER_RUNTIME=auto) comes to on this engine.
    const crun = await new DockerDriver(docker).chooseRuntime('auto') === 'crun';
    if (!crun) progress('the engine has no crun registered: the server uses its default runtime, and the crun rows are left out');
    const plainDefault = crun
      ? await server({ FNTS_STEM_CELLS: '0', FNTS_WARM_ON_DEPLOY: 'false', FNTS_DOCKER_RUNTIME: 'default' }, label, join(work, 'iofs-d'))
      : undefined;
    if (plainDefault) servers.push(plainDefault);
    const warm = await server({ FNTS_STEM_CELLS: '0', FNTS_WARM_ON_DEPLOY: 'true' }, label, join(work, 'iofs-c'));
    servers.push(warm);
    const appOn = async (s: typeof stems) => (await s.api<{ id: string }>('POST', '/v2/apps', { name: `cold-${runId}` })).id;
    const apps = await Promise.all([stems, plain, warm].map(appOn));
    const defaultApp = plainDefault ? await appOn(plainDefault) : '';
    const fnBody = { image, memory: 128, timeout: 30, idle_timeout: 3600 };

    const out = {
      stem: [] as number[], plain: [] as number[], plainDefault: [] as number[], dockerRun: [] as number[], dockerRunCrun: [] as number[],
      afterDeploy: [] as number[], afterDeployNow: [] as number[], warmedAfter: [] as number[],
    };
    const newFnCall = async (s: typeof stems, appId: string, name: string) => {
      const fn = await s.api<{ id: string }>('POST', '/v2/fns', { ...fnBody, app_id: appId, name });
      const t0 = process.hrtime.bigint();
      await s.invoke(fn.id);
      return msSince(t0);
    };
    const kinds: ((i: number) => Promise<void>)[] = [
      async (i) => {
        await stems.metricAtLeast('fnts_stem_cells_ready', '', 2); // a claim, not a race with the refill
        out.stem.push(await newFnCall(stems, apps[0] as string, `stem-${i}`));
        // The refill starts a container in the background: it must not load the next case's cold start.
        await stems.metricAtLeast('fnts_stem_cells_ready', '', 2);
      },
      async (i) => void out.plain.push(await newFnCall(plain, apps[1] as string, `plain-${i}`)),
      async (i) => {
        const t = await dockerRun(docker, image, { name: `fnts-bench-${runId}-run-${i}`, labels, work, callId: `b-${i}`, timeoutMs: 20_000 });
        out.dockerRun.push(t.totalMs);
      },
      ...(plainDefault ? [
        async (i: number) => void out.plainDefault.push(await newFnCall(plainDefault, defaultApp, `default-${i}`)),
        async (i: number) => {
          const t = await dockerRun(docker, image, {
            name: `fnts-bench-${runId}-crun-${i}`, labels, work, callId: `c-${i}`, timeoutMs: 20_000, runtime: 'crun',
          });
          out.dockerRunCrun.push(t.totalMs);
        },
      ] : []),
      async (i) => {
        // Deployed, its container started in the background and warmed up (agent/warm-up.ts): the call a user makes
        // after `fnts deploy`. How long the start and the warm-up take after the deploy answers is a row of its own.
        let t0 = process.hrtime.bigint();
        const fn = await warm.api<{ id: string }>('POST', '/v2/fns', { ...fnBody, app_id: apps[2], name: `warm-${i}` });
        await warm.metricAtLeast('fnts_warmup_calls_total', `fn_id="${fn.id}"`, 1);
        out.warmedAfter.push(msSince(t0));
        // A user's first call comes a while after the deploy: the same idle gap as the hot reference below.
        await sleep(IDLE_GAP_MS);
        t0 = process.hrtime.bigint();
        await warm.invoke(fn.id);
        out.afterDeploy.push(msSince(t0));
        // The same, called the moment the deploy answers (the start is still under way).
        t0 = process.hrtime.bigint();
        const now = await warm.api<{ id: string }>('POST', '/v2/fns', { ...fnBody, app_id: apps[2], name: `warm-now-${i}` });
        await warm.invoke(now.id);
        out.afterDeployNow.push(msSince(t0));
      },
    ];
    for (let i = 0; i < ROUNDS; i++) {
      // A new random order every round: a fixed cyclic order put every case after the same neighbour each round, and
      // what a neighbour leaves running (a stem cell refill, a warm-up) then weighed on one case only.
      const order = kinds.map((kind) => ({ kind, key: Math.random() })).sort((a, b) => a.key - b.key);
      for (const { kind } of order) {
        await kind(i);
        await sleep(200);
      }
      progress(`round ${i + 1}/${ROUNDS}`);
    }
    // Hot p50 on the warm server's last fn, for the after-deploy ratio.
    const hotFn = await warm.api<{ items: { id: string }[] }>('GET', `/v2/fns?app_id=${apps[2]}`);
    const id = hotFn.items[0]?.id as string;
    for (let i = 0; i < HOT_WARMUP; i++) await warm.invoke(id);
    const hot: number[] = [];
    for (let i = 0; i < HOT_CALLS; i++) {
      const t0 = process.hrtime.bigint();
      await warm.invoke(id);
      hot.push(msSince(t0));
    }
    const afterIdle: number[] = [];
    for (let i = 0; i < ROUNDS * 2; i++) {
      await sleep(IDLE_GAP_MS);
      const t0 = process.hrtime.bigint();
      await warm.invoke(id);
      afterIdle.push(msSince(t0));
    }
    const run = median(out.dockerRun);
    const hotP50 = median(hot);
    const row = (what: string, xs: number[], vs: string) =>
      [what, fmt(median(xs), 1), `${fmt(Math.min(...xs), 1)}–${fmt(Math.max(...xs), 1)}`, vs];
    console.log(`\n${ROUNDS} rounds, cases in a new random order each round; medians (timings on a shared 2-core host are noisy)`);
    console.log(renderTable(['case', 'median ms', 'range ms', 'ratio'], [
      row('docker run → first response (baseline)', out.dockerRun, '1.00× docker run'),
      row(`new fn, first call, stem cells off (${crun ? 'crun' : 'default runtime'})`, out.plain, `${fmt(median(out.plain) / run)}× docker run`),
      ...(crun ? [
        row('new fn, first call, stem cells off, FNTS_DOCKER_RUNTIME=default', out.plainDefault, `${fmt(median(out.plainDefault) / run)}× docker run`),
        row('docker run --runtime crun → first response', out.dockerRunCrun, `${fmt(median(out.dockerRunCrun) / run)}× docker run`),
      ] : []),
      row('new fn, first call, stem cell claimed', out.stem, `${fmt(median(out.stem) / run)}× docker run`),
      row('deploy → its container started and warmed up', out.warmedAfter, ''),
      row(`first call after deploy (started, warmed up, then ${IDLE_GAP_MS} ms idle)`, out.afterDeploy,
        `${fmt(median(out.afterDeploy) / hotP50)}× hot p50, ${fmt(median(out.afterDeploy) / median(afterIdle))}× hot after idle`),
      row('deploy answer → first response at once', out.afterDeployNow, `${fmt(median(out.afterDeployNow) / run)}× docker run`),
      ['hot call p50, back to back (same server)', fmt(hotP50, 3), '', ''],
      row(`hot call after ${IDLE_GAP_MS} ms idle (same container)`, afterIdle, `${fmt(median(afterIdle) / hotP50)}× hot p50: the floor for a first call`),
    ]));
    const stemRatio = median(out.stem) / run;
    const deployRatio = median(out.afterDeploy) / hotP50;
    const dockerRatio = median(out.plain) / run;
    console.log('\nTargets');
    console.log(`cold start, typescript fn ≤ 0.3× docker run: ${fmt(stemRatio)}× ${stemRatio <= 0.3 ? 'met' : 'not met'}`);
    console.log(`cold start, runtime: docker image (stem cells off) ≤ 0.95× docker run: ${fmt(dockerRatio)}× ${dockerRatio <= 0.95 ? 'met' : 'not met'}`);
    console.log(`first call after deploy ≤ 3× hot p50: ${fmt(deployRatio)}× ${deployRatio <= 3 ? 'met' : 'not met'}`);
  } finally {
    for (const s of servers.reverse()) await s.close().catch(() => undefined);
    await removeLabelled(docker, label);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
