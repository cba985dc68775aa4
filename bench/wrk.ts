// wrk (Debian's package), a lean load generator in C with its own event loop: it costs the 2 cores far less per
// call than a node client, so ratios measured with it depend less on the client. A small Lua script sets the POST.
import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface WrkResult {
  /** What wrk printed. */
  output: string;
  requests: number;
  callsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors and answers that were not 2xx/3xx; any fails the run. */
  errors: number;
}

export function haveWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** A Lua script that makes every request `POST` with `body` as JSON. */
export async function postScript(dir: string, body: string): Promise<string> {
  if (body.includes(']==]')) throw new Error('the body cannot be quoted for Lua');
  const file = join(dir, 'post.lua');
  await writeFile(file, `wrk.method = "POST"\nwrk.body = [==[${body}]==]\nwrk.headers["Content-Type"] = "application/json"\n`);
  return file;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string | undefined, what: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  if (!m) throw new Error(`wrk printed no ${what}`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** Runs wrk with one thread and `connections` kept-alive connections for `seconds` against `url`. */
export function runWrk(opts: { url: string; script: string; connections: number; seconds: number }): Promise<WrkResult> {
  const args = ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '10s', '--latency', '-s', opts.script, opts.url];
  return new Promise((ok, fail) => {
    execFile('wrk', args, { timeout: (opts.seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return fail(new Error(`wrk ${args.join(' ')} failed: ${err.message}\n${stdout}`));
      try {
        const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
        const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
        const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0)
          + (socketErrors ? socketErrors.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
        ok({
          output: stdout,
          requests,
          callsPerS: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN),
          p50Ms: durationMs(/\s50%\s+(\S+)/.exec(stdout)?.[1], 'p50'),
          p99Ms: durationMs(/\s99%\s+(\S+)/.exec(stdout)?.[1], 'p99'),
          errors,
        });
      } catch (parseErr) {
        fail(new Error(`${(parseErr as Error).message} for ${opts.url}:\n${stdout}`));
      }
    });
  });
}
