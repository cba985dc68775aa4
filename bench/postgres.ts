// A throwaway PostgreSQL cluster for the several-servers bench and the tests (test/support/postgres.ts re-exports
// it): Debian's server binaries, initdb in a temp dir, loopback and a unix socket only, nothing outside that dir.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for one test run: Debian's server binaries, `initdb` in a temp dir, run as the
 * unprivileged `postgres` user when the tests run as root (the server refuses to run as root), listening on a unix
 * socket in that dir and on 127.0.0.1 on a free port. Durability is off (fsync): the cluster dies with the run.
 */
export interface PostgresCluster {
  /** `postgres://` URL of the cluster's `postgres` database, as its superuser. */
  readonly url: string;
  /** The directory its unix socket is in. */
  readonly socketDir: string;
  /** Stops the server (by its PID) and removes the temp dir. */
  stop(): Promise<void>;
  /** Stops the server as an operator's restart would ("fast" shutdown: sessions ended), keeping its data. */
  halt(): Promise<void>;
  /** Starts the halted server again on the same port and socket dir; resolves once it accepts connections. */
  resume(): Promise<void>;
}

const SUPERUSER = 'fnts';
/** Bounds on waiting for the server: it starts in about a second on two cores. */
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** Debian's server binaries (/usr/lib/postgresql/<major>/bin), the newest major installed, else whatever is on PATH. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root).filter((m) => /^\d+$/.test(m) && existsSync(join(root, m, 'bin', 'initdb')));
    majors.sort((a, b) => Number(b) - Number(a));
    if (majors[0] !== undefined) return join(root, majors[0], 'bin');
  }
  try {
    const found = execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim();
    return found ? join(found, '..') : undefined;
  } catch {
    return undefined;
  }
}

/** The uid/gid the cluster runs as: `postgres` when we are root (initdb refuses root), ourselves otherwise. */
function clusterUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined): void {
  execFileSync(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
}

/** Resolves when the server logs that it accepts connections; rejects when it exits first or takes too long. */
function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`PostgreSQL did not start within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready to accept connections')) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null) => fail(new Error(`PostgreSQL exited (${code}) before it was ready:\n${output}`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining its log so a full pipe never blocks the server.
      child.stderr?.resume();
    };
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Creates and starts a cluster; callers stop it (the vitest global setup does, once per run). */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (initdb): run scripts/setup.sh, which installs Debian\'s postgresql');
  const user = clusterUser();
  const dir = await mkdtemp(join(tmpdir(), 'fnts-pg-'));
  const data = join(dir, 'data');
  if (user) await chown(dir, user.uid, user.gid);
  let child: ChildProcess | undefined;
  let port = 0;
  // A run that ends without its teardown (interrupted) still takes the server down: SIGQUIT is the immediate
  // shutdown, fine for a cluster that is thrown away anyway.
  const onExit = () => child?.kill('SIGQUIT');
  process.once('exit', onExit);
  const launch = async () => {
    child = spawn(join(bin, 'postgres'), [
      '-D', data, '-k', dir, '-h', '127.0.0.1', '-p', String(port),
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ], { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) });
    await waitReady(child);
  };
  const halt = async () => {
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        // SIGINT is PostgreSQL's "fast shutdown": sessions are ended, nothing is waited for.
        c.kill('SIGINT');
      });
    }
  };
  const stop = async () => {
    process.off('exit', onExit);
    await halt();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    run(join(bin, 'initdb'), ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], user);
    // A port free now may be taken before the server binds it: a few tries.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        return { url: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`, socketDir: dir, stop, halt, resume: launch };
      } catch (err) {
        if (attempt >= 3 || !/could not bind|Address already in use/.test((err as Error).message)) throw err;
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The URL of `database` on the cluster that `adminUrl` points at. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates a fresh, empty database on the cluster (each test file gets its own) and returns its URL. */
export async function createDatabase(adminUrl: string, prefix = 'fnts_test'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return databaseUrl(adminUrl, name);
}
