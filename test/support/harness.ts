import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { waitForListening } from './server-output.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO_ROOT, 'packages/cli/dist/main.js');
export const TEST_LABEL = 'fnts.test';

export const docker = new Docker({ socketPath: process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock' });

/** A unique id for one test file's run, put on every container and image it makes. */
export function runId(): string {
  return randomBytes(6).toString('hex');
}

export async function tempDir(prefix = 'fnts-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What `npm install` leaves in node_modules for an installed package: copies it and, recursively, its dependencies
 * from where the repo's node_modules holds them into `into`.
 */
export async function copyPackageTree(name: string, into: string, from = REPO_ROOT, seen = new Set<string>()): Promise<void> {
  if (seen.has(name)) return;
  seen.add(name);
  const pkgJson = createRequire(join(from, 'package.json')).resolve(`${name}/package.json`);
  const pkgDir = dirname(pkgJson);
  await cp(pkgDir, join(into, name), { recursive: true, dereference: true });
  const deps = (JSON.parse(await readFile(pkgJson, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
  for (const dep of Object.keys(deps)) await copyPackageTree(dep, into, pkgDir, seen);
}

/** Runs the real `fnts` CLI as a process. */
export function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      // A developer's own ~/.fnts (a context with a registry, say) must not leak into tests.
      env: { ...process.env, FNTS_HOME: join(opts.cwd, '.fnts-home'), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server printed so far (its pino log). */
  log(): string;
  /** SIGTERM, then wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `fnts start` as a real process on a loopback port (a free one unless given) with its own SQLite file. */
export async function startServerProcess(opts: { dir: string; label: string; env?: NodeJS.ProcessEnv; port?: number }): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', String(opts.port ?? 0)], {
    cwd: opts.dir,
    env: {
      ...process.env,
      FNTS_DB: join(opts.dir, 'fnts.db'),
      FNTS_HOST: '127.0.0.1',
      FNTS_CONTAINER_LABELS: `${TEST_LABEL}=${opts.label}`,
      FNTS_IOFS_DIR: join(opts.dir, 'iofs'),
      FNTS_LOG_LEVEL: 'debug',
      // No stem cells: the e2e tests count a run's containers, and idle stem cells would be among them (the server
      // tests cover them: packages/server/test/stem-cells.test.ts).
      FNTS_STEM_CELLS: '0',
      // A deploy's container still gets warm-up calls, but not the default 2000: seconds of CPU per deploy on the
      // 2-core CI machine (bench:cold measures the default; packages/server/test/warm-containers.test.ts the rules).
      FNTS_WARMUP_CALLS: '100',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = await waitForListening(child);
  return { url: server.url, child, log: server.output, stop: server.stop };
}

/** Ids of the containers a test run made. */
export async function containersOf(label: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${label}`] } });
}

/** Removes the containers and images a test run made, and its temp dir. */
export async function cleanup(label: string, dir?: string): Promise<void> {
  for (const c of await containersOf(label)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  const images = await docker.listImages({ filters: { label: [`${TEST_LABEL}=${label}`] } });
  // noprune: the untagged layer every function build shares through the build cache stays, so a build running
  // in parallel never loses its parent ("unknown parent image ID").
  for (const img of images) await docker.getImage(img.Id).remove({ force: true, noprune: true }).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** What a describe block gets from useServerProcess: filled in once its beforeAll has run. */
export interface ServerContext {
  label: string;
  dir: string;
  server: ServerProcess;
  /** Env for runCli: the server's URL and the run's image label. */
  env: NodeJS.ProcessEnv;
}

/** One real server process for a describe block: started before its tests; stopped, with everything it made removed, after. */
export function useServerProcess(): ServerContext {
  const ctx = { label: runId(), dir: '', env: {} } as ServerContext;
  beforeAll(async () => {
    ctx.dir = await tempDir();
    ctx.server = await startServerProcess({ dir: ctx.dir, label: ctx.label });
    ctx.env = { FNTS_API_URL: ctx.server.url, FNTS_IMAGE_LABELS: `fnts.test=${ctx.label}` };
  });
  afterAll(async () => {
    await ctx.server?.stop();
    await cleanup(ctx.label, ctx.dir);
  });
  return ctx;
}

/** Probes until `ok` holds, every `intervalMs`; past `timeoutMs` it fails naming `what` and the last value seen. */
export async function waitFor<T>(
  what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 60_000, intervalMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(intervalMs);
    last = await probe();
  }
  return last;
}

/** One JSON request to a server process's API; anything but a 200 fails with the method, path, status and body. */
export async function serverApi<T>(server: ServerProcess, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await request(`${server.url}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}
