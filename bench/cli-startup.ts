// CLI startup benchmark: how long `fnts list apps` takes against a running server, next to `node -e 0` measured in
// the same run, and their ratio (the target is at most 1.5). Run with `npm run bench:cli`; see bench/README.md.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildApp, loadConfig } from '@fnts/server';
import { fmt, median, msSince, progress, renderTable } from './support.js';

// This file runs as bench/dist/cli-startup.js. BIN is what `fnts` runs (the bundle `npm run build` makes); MAIN is
// tsc's unbundled output of the same code, measured for comparison.
const CLI_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'cli', 'dist');
const BIN = join(CLI_DIST, 'bin', 'fnts.js');
const MAIN = join(CLI_DIST, 'main.js');
/** Runs of each command after the warm-up; the commands alternate, so a noisy neighbour slows all of them alike. */
const RUNS = Number(process.env.FNTS_BENCH_CLI_RUNS ?? 30);
const WARMUP = 3;
/** One run that takes longer than this is a failure, not a figure. */
const RUN_TIMEOUT_MS = 15_000;

interface Case {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

/** What one run took: wall time from spawn to exit, and the CPU time (user + system) the process reported at exit. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

/**
 * Loaded with --import into a second run of every command (node -e 0 too, so all pay the same for it): reports the
 * process's CPU time at exit on stderr. CPU time is what the CLI itself costs; wall time (measured in runs without
 * it) also counts every wait for a core, which on a busy machine grows with each time a process sleeps (each async
 * file read, the request).
 */
const CPU_REPORTER = `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\nFNTS_BENCH_CPU_MS=' + (u.user + u.system) / 1000 + '\\n'); });\n`;

/**
 * One run; a non-zero exit fails the benchmark (it would have measured an error path). With `reporter` it also reads
 * the CPU time; without, nothing is added to the process, for its wall time.
 */
function timeOnce(c: Case, reporter?: string): Promise<Timing> {
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const argv = reporter ? ['--import', reporter, ...c.argv] : c.argv;
    const child = spawn(process.execPath, argv, { env: c.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = msSince(start);
      const cpu = /FNTS_BENCH_CPU_MS=([\d.]+)/.exec(stderr);
      if (code === 0 && (cpu || !reporter)) resolvePromise({ wallMs, cpuMs: cpu ? Number(cpu[1]) : Number.NaN });
      else reject(new Error(`${c.name} exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

/**
 * hyperfine's figures for the same cases, when it is installed (a second opinion from a dedicated tool). Run
 * asynchronously: the server the commands ask lives in this process and must keep answering meanwhile.
 */
async function hyperfine(cases: readonly Case[], outDir: string): Promise<Map<string, number> | undefined> {
  if (spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const json = join(outDir, 'hyperfine.json');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const args = ['--warmup', String(WARMUP), '--runs', String(RUNS), '--style', 'none', '--export-json', json];
  for (const c of cases) {
    // hyperfine runs each command through a shell; the env differences are written into the command line.
    const env = Object.entries(c.env).filter(([k]) => k.startsWith('FNTS_')).map(([k, v]) => `${k}=${quote(v ?? '')}`);
    args.push('-n', c.name, [...env, quote(process.execPath), ...c.argv.map(quote)].join(' '));
  }
  const status = await new Promise<number | null>((done) => {
    const child = spawn('hyperfine', args, { stdio: ['ignore', 'ignore', 'inherit'], timeout: RUN_TIMEOUT_MS * RUNS * cases.length });
    child.once('error', () => done(null));
    child.once('close', (code) => done(code));
  });
  if (status !== 0) return undefined;
  const parsed = JSON.parse(readFileSync(json, 'utf8')) as { results: { command: string; median: number }[] };
  return new Map(parsed.results.map((r) => [r.command, r.median * 1000]));
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
    const reporterFile = join(work, 'cpu-reporter.mjs');
    await writeFile(reporterFile, CPU_REPORTER);
    const reporter = pathToFileURL(reporterFile).href;
    const base = { PATH: process.env.PATH ?? '', HOME: work };
    const cases: Case[] = [
      { name: 'node -e 0', argv: ['-e', '0'], env: base },
      { name: 'fnts list apps', argv: [BIN, 'list', 'apps'], env: { ...base, FNTS_HOME: emptyHome, FNTS_API_URL: apiUrl } },
      { name: 'fnts list apps (context in config.yaml)', argv: [BIN, 'list', 'apps'], env: { ...base, FNTS_HOME: contextHome } },
      { name: 'dist/main.js list apps (unbundled)', argv: [MAIN, 'list', 'apps'], env: { ...base, FNTS_HOME: emptyHome, FNTS_API_URL: apiUrl } },
    ];

    progress(`warming up (${WARMUP} runs each), then ${RUNS} alternating runs of each command`);
    for (let i = 0; i < WARMUP; i++) for (const c of cases) await timeOnce(c);
    const walls = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    const cpus = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const c of cases) {
        walls.get(c.name)?.push((await timeOnce(c)).wallMs);
        cpus.get(c.name)?.push((await timeOnce(c, reporter)).cpuMs);
      }
    }

    const wall = (name: string) => median(walls.get(name) ?? []);
    const cpu = (name: string) => median(cpus.get(name) ?? []);
    const [nodeWall, nodeCpu] = [wall('node -e 0'), cpu('node -e 0')];
    const viaHyperfine = await hyperfine(cases, work);
    const hfNode = viaHyperfine?.get('node -e 0');
    const rows = cases.map((c) => {
      const hf = viaHyperfine?.get(c.name);
      return [
        c.name, fmt(wall(c.name), 1), fmt(wall(c.name) / nodeWall, 2), fmt(cpu(c.name), 1), fmt(cpu(c.name) / nodeCpu, 2),
        hf === undefined ? '-' : fmt(hf, 1), hf === undefined || hfNode === undefined ? '-' : fmt(hf / hfNode, 2),
      ];
    });
    process.stdout.write(`CLI startup (medians of ${RUNS} runs each, alternating; loopback server with 3 apps; load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores)\n`);
    process.stdout.write(`${renderTable(['command', 'wall ms', 'x node', 'cpu ms', 'x node', 'hyperfine ms', 'x node'], rows)}\n`);
    process.stdout.write(`\nfnts list apps / node -e 0: wall ${fmt(wall('fnts list apps') / nodeWall, 2)}, cpu ${fmt(cpu('fnts list apps') / nodeCpu, 2)} (target <= 1.5)\n`);
  } finally {
    await app.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
