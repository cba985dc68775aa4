// The fnts server as its own process, as in production: its own event loop, so a benchmark's load generator never
// shares a thread with it. Every bench that measures a server starts it here.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'server', 'dist', 'main.js');
const LISTENING = /fnts server listening on (http:\/\/\S+)/;

export interface ServerChild {
  url: string;
  child: ChildProcess;
  pid: number;
  /** Resolves once the process has exited; sends `signal` (default SIGTERM, a clean close) if it still runs. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServerChildOptions {
  /** FNTS_* settings; FNTS_HOST and FNTS_PORT default to a free loopback port. */
  env: Record<string, string>;
  /** Arguments for node before the server's script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Sees every chunk the server writes to stdout (its log), after the listening line too. */
  onStdout?: (chunk: Buffer) => void;
  /** Copy the server's stderr to this process's stderr (default: only quoted if it fails to start). */
  passStderr?: boolean;
  timeoutMs?: number;
}

/** Starts `packages/server/dist/main.js` and resolves once it prints its listening line. */
export function startServerChild(opts: ServerChildOptions): Promise<ServerChild> {
  const env: NodeJS.ProcessEnv = { ...process.env, FNTS_HOST: '127.0.0.1', FNTS_PORT: '0', ...opts.env };
  // Each node start would pay for extra CA certificates it never uses here.
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  let printed = '';
  let started = false;
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      fail(new Error(`the server did not start within ${opts.timeoutMs ?? 30_000} ms:\n${printed}`));
    }, opts.timeoutMs ?? 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      if (opts.passStderr) process.stderr.write(d);
      if (!started) printed = (printed + d.toString()).slice(-8192);
    });
    child.stdout?.on('data', (d: Buffer) => {
      opts.onStdout?.(d);
      if (started) return;
      printed = (printed + d.toString()).slice(-8192);
      const m = LISTENING.exec(printed);
      if (m?.[1]) {
        started = true;
        clearTimeout(timer);
        ok({ url: m[1], child, pid: child.pid as number, stop });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!started) fail(new Error(`the server exited (${code ?? signal}) before listening:\n${printed}`));
    });
  });
}

/** A server on its own SQLite file and socket dir under `dir`, labelled for cleanup. */
export function serverEnv(dir: string, label: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FNTS_DB: join(dir, 'fnts.db'), FNTS_STATE_DIR: dir, FNTS_IOFS_DIR: join(dir, 'iofs'), FNTS_CONTAINER_LABELS: label,
    FNTS_LOG_LEVEL: 'warn', FNTS_LOG_FORMAT: 'json', ...extra,
  };
}
