// nginx as a child process in front of fnts servers, for the several-servers bench and the end-to-end test
// (test/support/nginx.ts): Debian's nginx with the documented config, on loopback, nothing outside its temp dir.
// `runNginx` is the part every nginx of the benches shares (bench/nginx-front.ts runs one in front of containers).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running nginx child process in front of some fnts servers. */
export interface NginxProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  child: ChildProcess;
  dir: string;
  /** Each request's upstream address(es) and routing key, from the access log, oldest first. */
  accessLog(): Promise<{ upstream: string; key: string; status: number }[]>;
  /** Stops nginx (by its PID) and removes its directory. */
  stop(): Promise<void>;
}

/** Debian's nginx, from PATH or /usr/sbin (not on an unprivileged user's PATH); installed by scripts/setup.sh. */
export function nginxBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin']) {
    const candidate = join(dir, 'nginx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error('nginx is not installed: run scripts/setup.sh (Debian: apt-get install nginx)');
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done, fail) => probe.once('error', fail).listen(0, '127.0.0.1', done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

/**
 * The documented config with its upstream servers and listen address replaced; fails if the file no longer has the
 * lines this rewrites (the test would otherwise run a config the docs do not show).
 */
export async function renderConfig(conf: string, upstreams: string[], port: number): Promise<string> {
  const text = await readFile(conf, 'utf8');
  const serverLine = /^(\s*)server 127\.0\.0\.1:\d+( [^;]*)?;\n/gm;
  const found = [...text.matchAll(serverLine)];
  const listen = /^(\s*)listen 127\.0\.0\.1:\d+;/m;
  if (found.length === 0 || !listen.test(text)) throw new Error(`${conf} has no upstream server lines or no listen line to rewrite`);
  const indent = found[0]?.[1] ?? '    ';
  const options = found[0]?.[2] ?? '';
  const servers = upstreams.map((u) => `${indent}server ${u}${options};\n`).join('');
  let first = true;
  return text
    .replace(serverLine, () => {
      if (!first) return '';
      first = false;
      return servers;
    })
    .replace(listen, `$1listen 127.0.0.1:${port};`);
}

/** Resolves once something accepts TCP connections on the port, or rejects when nginx exits or the time is up. */
export async function waitForPort(port: number, child: ChildProcess, errors: () => Promise<string>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}):\n${await errors()}`);
    const open = await new Promise<boolean>((done) => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); done(true); });
      s.once('error', () => done(false));
    });
    if (open) return;
    // Polling a port nginx has not bound yet: a short pause between bounded attempts, not a synchronisation sleep.
    await sleep(25);
  }
  throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms:\n${await errors()}`);
}

/** The `*_temp_path` lines (http context) that keep nginx's temp files inside `dir`. */
export function tempPaths(dir: string): string {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`).join('\n');
}

/** An nginx child process started by `runNginx`. */
export interface RunningNginx {
  child: ChildProcess;
  dir: string;
  /** Stops nginx (SIGTERM to its PID) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Runs nginx in the foreground as a child process in a new temp dir, with the main config `writeConfig(dir)` returns
 * (it may write files it includes into `dir`); its pid file and error log are in the dir too. Resolves once something
 * accepts connections on 127.0.0.1:`port`; on failure nginx is stopped and the dir removed.
 */
export async function runNginx(port: number, writeConfig: (dir: string) => Promise<string>): Promise<RunningNginx> {
  const dir = await mkdtemp(join(tmpdir(), 'fnts-nginx-'));
  // Run as root, nginx's workers switch to an unprivileged user, which must reach the temp folders below.
  await chmod(dir, 0o755);
  const errorLog = join(dir, 'error.log');
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child?.once('exit', done));
      // SIGTERM is nginx's fast shutdown; the master takes its workers with it.
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(join(dir, 'nginx.conf'), await writeConfig(dir));
    child = spawn(nginxBinary(), [
      '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog,
      '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitForPort(port, child, async () => `${stderr}${await readFile(errorLog, 'utf8').catch(() => '')}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, dir: resolve(dir), stop };
}

/**
 * Starts nginx in the foreground as a child process with `conf` (deploy/nginx/fnts.conf), proxying to `upstreams`
 * (`host:port`), on a free 127.0.0.1 port. Everything it writes (pid, logs, temp files) is in its own temp dir.
 */
export async function startNginx(conf: string, upstreams: string[]): Promise<NginxProcess> {
  const port = await freePort();
  const { child, dir, stop } = await runNginx(port, async (dir) => {
    await writeFile(join(dir, 'fnts.conf'), await renderConfig(conf, upstreams, port));
    return [
      'worker_processes 1;',
      'events { worker_connections 1024; }',
      'http {',
      '  log_format fnts "$upstream_addr|$fnts_fn|$status";',
      `  access_log ${join(dir, 'access.log')} fnts;`,
      tempPaths(dir),
      `  include ${join(dir, 'fnts.conf')};`,
      '}',
      '',
    ].join('\n');
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    dir,
    accessLog: async () => (await readFile(join(dir, 'access.log'), 'utf8').catch(() => ''))
      .split('\n').filter(Boolean).map((line) => {
        const [upstream = '', key = '', status = '0'] = line.split('|');
        return { upstream, key, status: Number(status) };
      }),
    stop,
  };
}
