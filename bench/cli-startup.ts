// CLI startup benchmark: how long `fnts list apps` takes against a running server, next to `node -e 0` measured in
// the same run, and their ratio (the target is at most 1.5). Run with `npm run bench:cli`; see bench/README.md.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, loadConfig } from '@fnts/server';
import { fmt, median, msSince, progress, renderTable } from './support.js';

// This file runs as bench/dist/cli-startup.js. BIN is what `fnts` runs: the file packages/cli/package.json names as
// its bin (what npm links as node_modules/.bin/fnts), run as an executable the way a shell runs it, so the launcher and
// the startup snapshot it picks are measured too. BUNDLE is that bin's bundle run plainly by node (what the launcher
// falls back to without a snapshot), and MAIN tsc's unbundled output of the same code, measured for comparison.
const CLI_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'cli');
const CLI_DIST = join(CLI_ROOT, 'dist');
const BIN = join(CLI_ROOT, (JSON.parse(readFileSync(join(CLI_ROOT, 'package.json'), 'utf8')) as { bin: { fnts: string } }).bin.fnts);
const BUNDLE = join(CLI_DIST, 'bin', 'fnts.cjs');
const MAIN = join(CLI_DIST, 'main.js');
/** Runs of each command after the warm-up; the commands alternate, so a noisy neighbour slows all of them alike. */
const RUNS = Number(process.env.FNTS_BENCH_CLI_RUNS ?? 30);
const WARMUP = 3;
/** One run that takes longer than this is a failure, not a figure. */
const RUN_TIMEOUT_MS = 15_000;

interface Case {
  name: string;
  /** The executable: node for most, the bin itself for `fnts`. */
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** One run's wall time, from spawn to exit; a non-zero exit fails the benchmark (it would have measured an error path). */
function timeOnce(c: Case): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(c.file, c.args, { env: c.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = msSince(start);
      if (code === 0) resolvePromise(wallMs);
      else reject(new Error(`${c.name} exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

/** hyperfine's figures for one command: median wall time, and the mean CPU time (user + system, children included). */
interface HyperfineFigures {
  wallMs: number;
  cpuMs: number;
}

/**
 * hyperfine's figures for the same cases, when it is installed: a second opinion on the wall time, and the CPU time
 * (what the command itself costs; wall time also counts every wait for a core, which on a busy machine grows with each
 * time a process sleeps). Each command runs without a shell (-N) through `env`, which sets its environment; `node -e 0`
 * goes through `env` too, so all pay the same for it. Run asynchronously: the server the commands ask lives in this
 * process and must keep answering meanwhile.
 */
async function hyperfine(cases: readonly Case[], outDir: string): Promise<Map<string, HyperfineFigures> | undefined> {
  if (spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const json = join(outDir, 'hyperfine.json');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const args = ['-N', '--warmup', String(WARMUP), '--runs', String(RUNS), '--style', 'none', '--export-json', json];
  for (const c of cases) {
    const env = Object.entries(c.env).map(([k, v]) => `${k}=${v ?? ''}`);
    args.push('-n', c.name, ['env', '-i', ...env, c.file, ...c.args].map(quote).join(' '));
  }
  const status = await new Promise<number | null>((done) => {
    const child = spawn('hyperfine', args, { stdio: ['ignore', 'ignore', 'inherit'], timeout: RUN_TIMEOUT_MS * RUNS * cases.length });
    child.once('error', () => done(null));
    child.once('close', (code) => done(code));
  });
  if (status !== 0) return undefined;
  const parsed = JSON.parse(readFileSync(json, 'utf8')) as { results: { command: string; median: number; user: number; system: number }[] };
  return new Map(parsed.results.map((r) => [r.command, { wallMs: r.median * 1000, cpuMs: (r.user + r.system) * 1000 }]));
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'fnts-bench-cli-'));
  const app = await buildApp({ config: loadConfig({ FNTS_DB: ':memory:', FNTS_LOG_LEVEL: 'silent' }) });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const apiUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    // A few apps, so the command prints a table rather than "No apps found".
    for (const name of ['alpha', 'beta', 'gamma']) {
      await app.inject({ method: 'POST', url: '/v2/apps', payload: { name } });
    }
    // Two homes: none (the environment names the server), and a current context in config.yaml (YAML is read).
    const emptyHome = join(work, 'empty-home');
    const contextHome = join(work, 'context-home');
    await mkdir(join(contextHome, 'contexts'), { recursive: true });
    await writeFile(join(contextHome, 'config.yaml'), 'current-context: bench\n');
    await writeFile(join(contextHome, 'contexts', 'bench.yaml'), `api-url: ${apiUrl}\n`);
    // Only what the commands need in their environment (no NODE_OPTIONS, no NODE_EXTRA_CA_CERTS: either would time
    // something else), with this node first on PATH: the bin runs the `node` on PATH.
    const base = { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: work };
    const listApps = { ...base, FNTS_HOME: emptyHome, FNTS_API_URL: apiUrl };
    const cases: Case[] = [
      { name: 'node -e 0', file: process.execPath, args: ['-e', '0'], env: base },
      { name: 'fnts list apps', file: BIN, args: ['list', 'apps'], env: listApps },
      { name: 'fnts list apps (context in config.yaml)', file: BIN, args: ['list', 'apps'], env: { ...base, FNTS_HOME: contextHome } },
      { name: 'node dist/bin/fnts.cjs list apps (no snapshot)', file: process.execPath, args: [BUNDLE, 'list', 'apps'], env: listApps },
      { name: 'node dist/main.js list apps (unbundled)', file: process.execPath, args: [MAIN, 'list', 'apps'], env: listApps },
    ];

    progress(`warming up (${WARMUP} runs each), then ${RUNS} alternating runs of each command`);
    for (let i = 0; i < WARMUP; i++) for (const c of cases) await timeOnce(c);
    const walls = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    for (let i = 0; i < RUNS; i++) for (const c of cases) walls.get(c.name)?.push(await timeOnce(c));

    const wall = (name: string) => median(walls.get(name) ?? []);
    const nodeWall = wall('node -e 0');
    progress('the same commands with hyperfine, if it is installed');
    const viaHyperfine = await hyperfine(cases, work);
    const hfNode = viaHyperfine?.get('node -e 0');
    const ratio = (n: number | undefined, d: number | undefined) => (n === undefined || d === undefined ? '-' : fmt(n / d, 2));
    const rows = cases.map((c) => {
      const hf = viaHyperfine?.get(c.name);
      return [
        c.name, fmt(wall(c.name), 1), fmt(wall(c.name) / nodeWall, 2),
        hf === undefined ? '-' : fmt(hf.wallMs, 1), ratio(hf?.wallMs, hfNode?.wallMs),
        hf === undefined ? '-' : fmt(hf.cpuMs, 1), ratio(hf?.cpuMs, hfNode?.cpuMs),
      ];
    });
    process.stdout.write(`CLI startup (medians of ${RUNS} runs each, alternating; loopback server with 3 apps; load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores)\n`);
    process.stdout.write(`bin: ${BIN}\n`);
    process.stdout.write(`${renderTable(['command', 'wall ms', 'x node', 'hyperfine ms', 'x node', 'cpu ms', 'x node'], rows)}\n`);
    const hfList = viaHyperfine?.get('fnts list apps');
    process.stdout.write(`\nfnts list apps / node -e 0: wall ${fmt(wall('fnts list apps') / nodeWall, 2)}, hyperfine wall ${ratio(hfList?.wallMs, hfNode?.wallMs)}, cpu ${ratio(hfList?.cpuMs, hfNode?.cpuMs)} (target <= 1.5)\n`);
  } finally {
    await app.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
