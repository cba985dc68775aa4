// A native front for the invoke benchmark: Debian's nginx (one worker) proxying `POST /` to `POST /call` on the
// containers' unix sockets, beside the bare node proxy (bench/bare-proxy.ts). It pays the same extra HTTP hop with
// no JavaScript at all, so its calls/s at 8 clients ÷ direct is the floor for any native front on this machine.
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, runNginx, tempPaths } from './nginx.js';

export interface NginxFront {
  /**
   * `http://127.0.0.1:<port>`; any path is sent to a container as `POST /call`. Open at most one connection per
   * socket (pipelining calls on it): a container that is busy when a call arrives answers 502.
   */
  url: string;
  /** The master's and the worker's PIDs, for the CPU tally. */
  pids: number[];
  /** Stops nginx by its PID and removes its dir. */
  close(): Promise<void>;
}

/** How far ahead of the front's start the fixed `Fn-Deadline` of its calls lies (see the config below). */
const DEADLINE_AHEAD_MS = 3_600_000;

/** The PIDs whose parent is `pid` (nginx's workers), from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // After the command name (in parentheses, may hold spaces): state, then the parent's PID.
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
}

function config(dir: string, port: number, socketPaths: readonly string[]): string {
  return [
    // The containers' sockets sit under the server's private (0700) dirs and are owned by the container's user; a
    // worker that switched to nginx's unprivileged user could not connect to them. A bench on loopback only, so the
    // worker stays root (the line only matters, and is only written, when nginx starts as root).
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    tempPaths(dir),
    // Clients and containers keep their connections for the whole run, as with the bare proxy and the direct clients
    // (nginx's default closes a connection after 1000 requests).
    '  keepalive_requests 1000000;',
    '  keepalive_timeout 120s;',
    '  upstream fnts_containers {',
    // Each container serves one call at a time (the FDK would run concurrent connections' calls at once, which the
    // server never asks of it). nginx cannot queue a call for a busy container, so its client opens one connection
    // per socket and pipelines further calls on them: nginx serves a connection's calls one after another, so at
    // most one call per socket is in flight and least_conn sends each to the free container; max_conns=1 turns a
    // second concurrent call to a container into a 502 that fails the run.
    '    least_conn;',
    ...socketPaths.map((s) => `    server unix:${s} max_conns=1;`),
    `    keepalive ${Math.max(socketPaths.length, 1) * 2};`,
    '    keepalive_requests 1000000;',
    '    keepalive_timeout 120s;',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    location / {',
    '      proxy_pass http://fnts_containers/call;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Fn-Call-Id $request_id;',
    // nginx cannot compute now + 30 s as the agent does, and this is a floor measurement, so a fixed deadline far
    // beyond the front's life does. Not 2099: the FDK arms no deadline guard for one more than 2^31 ms away
    // (packages/fdk/src/call.ts), which would spare the container per-call work it does on the other paths.
    `      proxy_set_header Fn-Deadline ${new Date(Date.now() + DEADLINE_AHEAD_MS).toISOString()};`,
    // A failed call is a 502 that fails the run, not a silent retry on another container.
    '      proxy_next_upstream off;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Starts nginx over `socketPaths` on a free loopback port; resolves once it listens and its worker is up. */
export async function startNginxFront(socketPaths: readonly string[]): Promise<NginxFront> {
  const port = await freePort();
  const nginx = await runNginx(port, (dir) => Promise.resolve(config(dir, port, socketPaths)));
  const master = nginx.child.pid as number;
  // The master listens before it forks its worker: wait for the worker, so that the CPU tally counts it.
  let workers: number[] = [];
  for (let i = 0; i < 200 && workers.length === 0; i++) {
    workers = await childrenOf(master);
    // Polling for a process nginx is starting: a short pause between bounded attempts, not a synchronisation sleep.
    if (workers.length === 0) await sleep(25);
  }
  if (workers.length === 0) {
    await nginx.stop();
    throw new Error('nginx listened but started no worker within 5 s');
  }
  return { url: `http://127.0.0.1:${port}`, pids: [master, ...workers], close: nginx.stop };
}
