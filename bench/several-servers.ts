// Several-servers benchmark: calls/s and p50 of HTTP-trigger calls straight to one fnts server, through nginx
// (deploy/nginx/fnts.conf) to that one server, and through nginx to two servers, side by side with the ratios; each
// server on its own SQLite file, and again with two servers sharing one PostgreSQL database.
// Run with `npm run bench:servers`; see bench/README.md for what each figure means.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { dockerClient } from '@fnts/cli/dist/build/docker-build.js';
import { buildFunctionImage } from '@fnts/cli/dist/build/function-image.js';
import { startNginx } from './nginx.js';
import { serverEnv, startServerChild, type ServerChild } from './server-child.js';
import { createDatabase, startPostgresCluster } from './postgres.js';
import {
  CleanupStack, closedLoop, emptySamples, fmt, JsonApi, mergeInto, msSince, progress, removeLabelled, renderTable,
  summarize, writeResults, type LatencySummary, type Samples,
} from './support.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NGINX_CONF = join(ROOT, 'deploy/nginx/fnts.conf');

/** Sized so the whole run stays around four minutes on 2 cores (five paths). */
const PLAN = {
  /** Functions, each behind its own HTTP trigger; client w calls function w mod fns, so 8 clients keep 8 functions busy. */
  fns: 8,
  levels: [
    { clients: 1, calls: 1500, warmup: 200 },
    { clients: 8, calls: 3000, warmup: 800 },
  ],
  /** The three paths alternate this many times per level, so drift and noisy neighbours hit each alike. */
  rounds: 3,
  blockMaxMs: 5000,
  warmupMaxMs: 20_000,
  startTimeoutMs: 20_000,
} as const;

const BENCH_LABEL = 'fnts.bench';
const FUNC_SOURCE = "import { handle } from '@fnts/fdk';\nhandle(async (input) => ({ ok: true, input }));\n";
const BODY = '{"bench":true}';

/** A server on its own SQLite file unless given a database. */
async function startServer(dir: string, label: string, db = join(dir, 'fnts.db')): Promise<ServerChild> {
  await mkdir(dir, { recursive: true });
  return startServerChild({ env: serverEnv(dir, label, { FNTS_DB: db }), timeoutMs: PLAN.startTimeoutMs });
}

/** The bench app, its functions and one HTTP trigger each (`/t/bench/f<i>`), the same names on every server. */
async function deploy(url: string, image: string): Promise<void> {
  const http = new Pool(url, { connections: 2 });
  try {
    const api = new JsonApi(http);
    const app = await api.call<{ id: string }>('POST', '/v2/apps', { name: 'bench' });
    for (let i = 0; i < PLAN.fns; i++) {
      const fn = await api.call<{ id: string }>('POST', '/v2/fns', {
        app_id: app.id, name: `f${i}`, image, memory: 128, timeout: 30, idle_timeout: 3600,
      });
      await api.call('POST', '/v2/triggers', { app_id: app.id, fn_id: fn.id, name: `f${i}`, type: 'http', source: `/f${i}` });
    }
  } finally {
    await http.close();
  }
}

/** A closed-loop caller of the trigger routes at one base URL, over kept-alive connections. */
function caller(url: string, clients: number): { call: (w: number) => Promise<void>; close: () => Promise<void> } {
  const pool = new Pool(url, { connections: clients, keepAliveTimeout: 60_000 });
  return {
    call: async (w) => {
      const path = `/t/bench/f${w % PLAN.fns}`;
      const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`POST ${path} via ${url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    },
    close: () => pool.close(),
  };
}

/** How nginx's hash split the functions over the two servers, from its access log: server name → functions. */
async function split(log: { upstream: string; key: string }[], names: Record<string, string>): Promise<Record<string, string[]>> {
  const out: Record<string, Set<string>> = {};
  for (const { upstream, key } of log) {
    // A retried request logs "a, b"; the server that answered is the last one.
    const served = names[upstream.split(', ').pop() ?? ''] ?? upstream;
    (out[served] ??= new Set()).add(key.replace(/^bench\//, ''));
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

const PATHS = ['one server', 'nginx → 1 server', 'nginx → 2 servers', 'PG: one server', 'PG: nginx → 2 servers'] as const;
type PathName = typeof PATHS[number];

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const runId = randomBytes(4).toString('hex');
  const label = `${BENCH_LABEL}=${runId}`;
  const work = await mkdtemp(join(tmpdir(), `fnts-bench-${runId}-`));
  const docker = dockerClient(process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock');
  const cleanup = new CleanupStack();
  cleanup.add('remove the work dir', () => rm(work, { recursive: true, force: true }));
  cleanup.add('remove labelled containers and images', async () => {
    const left = await removeLabelled(docker, label);
    if (left > 0) console.error(`cleanup: removed ${left} container(s) still labelled ${label}`);
  });
  cleanup.trapSigint();
  const env = { node: process.version, cpus: availableParallelism(), date: new Date().toISOString() };
  console.log(`fnts several-servers benchmark  run ${runId}  ${env.date}  node ${env.node}  ${env.cpus} CPUs`);
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  try {
    const funcDir = join(work, 'func');
    await mkdir(funcDir);
    await writeFile(join(funcDir, 'func.ts'), FUNC_SOURCE);
    const { image } = await buildFunctionImage(docker, {
      dir: funcDir, version: '0.0.1', labels: { [BENCH_LABEL]: runId },
      func: { schema_version: 20180708, name: `fnts-bench-servers-${runId}`, version: '0.0.1', runtime: 'typescript' },
    });
    progress(`built ${image}`);

    const servers: ServerChild[] = [];
    for (const name of ['a', 'b']) {
      const s = await startServer(join(work, name), label);
      cleanup.add(`stop server ${name}`, () => s.stop());
      servers.push(s);
      await deploy(s.url, image);
    }
    const [a, b] = servers as [ServerChild, ServerChild];
    // Servers c and d share one database on a throwaway PostgreSQL cluster: the app is deployed once, through c.
    const cluster = await startPostgresCluster();
    cleanup.add('stop the PostgreSQL cluster', () => cluster.stop());
    const pgUrl = await createDatabase(cluster.url, 'fnts_bench');
    const shared: ServerChild[] = [];
    for (const name of ['c', 'd']) {
      const s = await startServer(join(work, name), label, pgUrl);
      cleanup.add(`stop server ${name}`, () => s.stop());
      shared.push(s);
    }
    const [c, d] = shared as [ServerChild, ServerChild];
    await deploy(c.url, image);
    const upstream = (s: ServerChild) => new URL(s.url).host;
    const nginxOne = await startNginx(NGINX_CONF, [upstream(a)]);
    cleanup.add('stop nginx (one server)', () => nginxOne.stop());
    const nginxTwo = await startNginx(NGINX_CONF, [upstream(a), upstream(b)]);
    cleanup.add('stop nginx (two servers)', () => nginxTwo.stop());
    const nginxPg = await startNginx(NGINX_CONF, [upstream(c), upstream(d)]);
    cleanup.add('stop nginx (two servers on PostgreSQL)', () => nginxPg.stop());
    const bases: Record<PathName, string> = {
      'one server': a.url, 'nginx → 1 server': nginxOne.url, 'nginx → 2 servers': nginxTwo.url,
      'PG: one server': c.url, 'PG: nginx → 2 servers': nginxPg.url,
    };
    progress(`servers ${a.url} ${b.url}, on PostgreSQL ${c.url} ${d.url}; nginx ${nginxOne.url} (a) ${nginxTwo.url} (a, b) ${nginxPg.url} (c, d)`);

    const results: { clients: number; paths: Record<PathName, LatencySummary>; truncated: boolean }[] = [];
    for (const level of PLAN.levels) {
      const callers = Object.fromEntries(PATHS.map((p) => [p, caller(bases[p], level.clients)])) as Record<PathName, ReturnType<typeof caller>>;
      try {
        // Warm-up on every path until each function has its containers on whichever server serves it.
        for (const p of PATHS) await closedLoop({ workers: level.clients, calls: level.warmup, maxMs: PLAN.warmupMaxMs, call: callers[p].call });
        const samples = Object.fromEntries(PATHS.map((p) => [p, emptySamples()])) as Record<PathName, Samples>;
        for (let r = 0; r < PLAN.rounds; r++) {
          // Alternating order (a b c, c b a, ...), so no path always runs first or last.
          const order = r % 2 === 0 ? PATHS : [...PATHS].reverse();
          for (const p of order) {
            mergeInto(samples[p], await closedLoop({ workers: level.clients, calls: level.calls, maxMs: PLAN.blockMaxMs, call: callers[p].call }));
          }
        }
        const paths = Object.fromEntries(PATHS.map((p) => [p, summarize(samples[p])])) as Record<PathName, LatencySummary>;
        results.push({ clients: level.clients, paths, truncated: PATHS.some((p) => samples[p].truncated) });
        progress(`${level.clients} client(s): ${PATHS.map((p) => `${p} ${fmt(paths[p].callsPerS, 0)}/s`).join(', ')}`);
      } finally {
        await Promise.all(PATHS.map((p) => callers[p].close()));
      }
    }
    const shares = await split(await nginxTwo.accessLog(), { [upstream(a)]: 'a', [upstream(b)]: 'b' });
    const pgShares = await split(await nginxPg.accessLog(), { [upstream(c)]: 'c', [upstream(d)]: 'd' });

    console.log(`\nHTTP-trigger calls of a no-op function (${PLAN.fns} functions, client w calls f<w mod ${PLAN.fns}>; closed loops, `
      + `${PLAN.rounds} alternating rounds per path; fnts servers and nginx are separate processes on this machine)`);
    // One row per path and level: the table stays narrow enough for a terminal with five paths.
    const header = ['clients', 'path', 'calls/s', 'p50 ms', 'calls/s ÷ one server', 'p50 ÷ one server'];
    console.log(renderTable(header, results.flatMap((r) => {
      const one = r.paths['one server'];
      return PATHS.map((p) => [
        String(r.clients), p, fmt(r.paths[p].callsPerS, 0), fmt(r.paths[p].p50Ms, 3),
        `${fmt(r.paths[p].callsPerS / one.callsPerS, 2)}×`, `${fmt(r.paths[p].p50Ms / one.p50Ms, 2)}×`,
      ]);
    })));
    if (results.some((r) => r.truncated)) console.log(`(a block stopped at its ${PLAN.blockMaxMs / 1000} s cap; rates count what finished)`);
    console.log(`nginx → 2 servers sent to server a: ${shares.a?.join(' ') ?? 'nothing'}; to server b: ${shares.b?.join(' ') ?? 'nothing'} `
      + '(consistent hashing of the routing key; "one server" and "nginx → 1 server" both use a)');
    console.log(`PG: nginx → 2 servers sent to server c: ${pgShares.c?.join(' ') ?? 'nothing'}; to server d: ${pgShares.d?.join(' ') ?? 'nothing'} `
      + '(servers c and d share one PostgreSQL database; "PG: one server" is c)');
    const runtimeS = msSince(started) / 1000;
    console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; run took ${runtimeS.toFixed(0)} s`);
    const file = await writeResults('several-servers', env.date, { runId, env, plan: PLAN, results, shares, pgShares, runtimeS });
    console.log(`results: ${file}`);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exitCode = 1;
});
