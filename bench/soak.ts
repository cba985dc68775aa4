// Soak: a hostile mix against a real server process on 127.0.0.1 for 60 s (SOAK_SECONDS to change): functions that
// flood their output (with and without newlines), crash, hang past their timeout; clients that send their body at
// 1 byte/s, use `Expect: 100-continue`, or announce a body over the limit; and a normal caller throughout.
// Prints the server's RSS before and after, calls by kind and status, the server log's size and containers leaked.
// Run with `npm run bench:soak` (SOAK_SECONDS, SOAK_KINDS to narrow it). Every loop is bounded in time and in iterations.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { dockerClient } from '@fnts/cli/dist/build/docker-build.js';
import { buildFunctionImage } from '@fnts/cli/dist/build/function-image.js';
import { startServerChild } from './server-child.js';
import { CleanupStack, fmt, JsonApi, progress, removeLabelled, renderTable, sleep } from './support.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
/** SOAK_KINDS=flood,expect runs only those hostile loops (beside the normal caller), to see what each one costs. */
const ONLY = process.env.SOAK_KINDS ? new Set(process.env.SOAK_KINDS.split(',')) : undefined;
const BENCH_LABEL = 'fnts.bench';
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/** Upper bound on iterations of any one loop, whatever the time: loops end at the deadline or here. */
const MAX_ITERATIONS = 100_000;

const WRITE_ALL = `
import { writeSync } from 'node:fs';
function writeAll(text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length; ) {
    try { off += writeSync(1, bytes, off); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err; }
  }
}
`;
const FUNCTIONS = {
  normal: `import { handle } from '@fnts/fdk';\nhandle(async (input: Buffer) => ({ bytes: input.length }), { inputMode: 'buffer' });\n`,
  // 16 MiB per call, alternately without any newline and as 1 MiB lines.
  flood: `${WRITE_ALL}
import { handle } from '@fnts/fdk';
let n = 0;
handle(async () => {
  const piece = 'y'.repeat(1 << 20) + (n++ % 2 === 0 ? '' : '\\n');
  for (let i = 0; i < 16; i++) writeAll(piece);
  writeAll('\\n');
  return { ok: true };
});
`,
  crash: `import { handle } from '@fnts/fdk';\nhandle(async () => { setTimeout(() => process.exit(3), 1); await new Promise(() => undefined); });\n`,
  hang: `import { handle } from '@fnts/fdk';\nhandle(async () => new Promise(() => undefined));\n`,
} as const;
type Kind = keyof typeof FUNCTIONS | 'slow_client' | 'expect' | 'expect_oversize';

/** Resident set size of a process in MiB, from /proc. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

class Tally {
  private readonly counts = new Map<string, number>();
  add(kind: Kind, status: number | string): void {
    const key = `${kind} ${status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  rows(): string[][] {
    return [...this.counts.entries()].sort().map(([k, n]) => [...k.split(' '), String(n)]);
  }
}

/** A raw client that announces 100000 bytes and sends one a second; resolves with the status line it got. */
function slowClient(port: number, path: string, maxSeconds: number): Promise<string> {
  return new Promise((resolvePromise) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    let ticks = 0;
    const drip = setInterval(() => {
      if (++ticks > maxSeconds) socket.destroy();
      else socket.write('x');
    }, 1000);
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(drip);
      resolvePromise(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 'closed');
    });
    socket.write(`POST ${path} HTTP/1.1\r\nHost: soak\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n`);
  });
}

/** One request with `Expect: 100-continue`; the body goes only after the 100. Resolves with the status. */
function expectContinue(url: string, bytes: number): Promise<number> {
  return new Promise((resolvePromise) => {
    const req = request(url, { method: 'POST', headers: { expect: '100-continue', 'content-length': String(bytes) } });
    req.on('continue', () => req.end(Buffer.alloc(bytes, 'x')));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode ?? 0));
    });
    req.on('error', () => resolvePromise(0));
    req.setTimeout(30_000, () => req.destroy());
    req.flushHeaders();
  });
}

async function main(): Promise<void> {
  const run = randomBytes(6).toString('hex');
  const label = `${BENCH_LABEL}=${run}`;
  const docker = dockerClient(process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock');
  const cleanup = new CleanupStack();
  cleanup.trapSigint();
  const work = await mkdtemp(join(tmpdir(), 'fnts-soak-'));
  cleanup.add('remove the work dir', () => rm(work, { recursive: true, force: true }));
  cleanup.add('remove labelled containers and images', () => removeLabelled(docker, label));
  try {
    const images: Record<string, string> = {};
    for (const [name, source] of Object.entries(FUNCTIONS)) {
      progress(`building ${name}`);
      const dir = join(work, name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'func.ts'), source);
      const func = { schema_version: 20180708, name: `fnts-soak-${name}-${run}`, version: '0.0.1', runtime: 'typescript' as const };
      images[name] = (await buildFunctionImage(docker, { dir, func, version: func.version, labels: { [BENCH_LABEL]: run } })).image;
    }

    let logBytes = 0;
    const { child, url, stop } = await startServerChild({
      env: {
        FNTS_DB: ':memory:', FNTS_IOFS_DIR: join(work, 'iofs'), FNTS_CONTAINER_LABELS: label, FNTS_LOG_LEVEL: 'info',
        FNTS_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES), FNTS_BODY_READ_TIMEOUT_MS: '5000', FNTS_MAX_QUEUE_PER_FN: '20',
      },
      onStdout: (chunk) => (logBytes += chunk.length),
      passStderr: true,
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    cleanup.add('stop the server', async () => {
      await Promise.race([stop(), sleep(20_000)]);
      await stop('SIGKILL');
    });
    const pool = new Pool(url, { connections: 32 });
    cleanup.add('close the client pool', () => pool.close());
    const api = new JsonApi(pool);
    const app = await api.call<{ id: string }>('POST', '/v2/apps', { name: `soak-${run}` });
    const fns: Record<string, string> = {};
    for (const [name, image] of Object.entries(images)) {
      const timeout = name === 'hang' ? 2 : 30;
      fns[name] = (await api.call<{ id: string }>('POST', '/v2/fns', { app_id: app.id, name, image, timeout, max_containers: 3 })).id;
    }
    const invoke = async (kind: Kind, fnId: string, tally: Tally): Promise<void> => {
      const res = await pool.request({ path: `/invoke/${fnId}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await res.body.dump();
      tally.add(kind, res.statusCode);
    };
    // Warm the normal function, then read the baseline RSS.
    const warm = new Tally();
    for (let i = 0; i < 20; i++) await invoke('normal', fns.normal as string, warm);
    const rssBefore = await rssMiB(child.pid as number);
    const logBefore = logBytes;
    progress(`server RSS ${fmt(rssBefore, 1)} MiB; soaking for ${SECONDS} s`);

    const tally = new Tally();
    const deadline = Date.now() + SECONDS * 1000;
    const loop = async (body: () => Promise<void>): Promise<void> => {
      for (let i = 0; i < MAX_ITERATIONS && Date.now() < deadline; i++) await body();
    };
    const port = Number(new URL(url).port);
    let peakRss = rssBefore;
    const normalLatencies: number[] = [];
    const hostile: Record<Exclude<Kind, 'normal'>, () => Promise<void>> = {
      flood: () => invoke('flood', fns.flood as string, tally),
      crash: () => invoke('crash', fns.crash as string, tally),
      hang: () => invoke('hang', fns.hang as string, tally),
      slow_client: async () => {
        const statuses = await Promise.all(Array.from({ length: 5 }, () => slowClient(port, `/invoke/${fns.normal}`, 10)));
        for (const s of statuses) tally.add('slow_client', s);
      },
      expect: async () => tally.add('expect', await expectContinue(`${url}/invoke/${fns.normal}`, 1536 * 1024)),
      expect_oversize: async () => {
        tally.add('expect_oversize', await expectContinue(`${url}/invoke/${fns.normal}`, 3 * MAX_REQUEST_BYTES));
        await sleep(200);
      },
    };
    await Promise.all([
      loop(async () => {
        const t0 = Date.now();
        await invoke('normal', fns.normal as string, tally);
        normalLatencies.push(Date.now() - t0);
      }),
      ...Object.entries(hostile).filter(([kind]) => ONLY === undefined || ONLY.has(kind)).map(([, body]) => loop(body)),
      loop(async () => {
        peakRss = Math.max(peakRss, await rssMiB(child.pid as number));
        await sleep(500);
      }),
    ]);
    const rssAfter = await rssMiB(child.pid as number);
    const logs = await pool.request({ path: `/v2/fns/${fns.flood}/logs?tail=1000`, method: 'GET' });
    const logsBytes = (await logs.body.arrayBuffer()).byteLength;
    const live = (await docker.listContainers({ all: true, filters: { label: [label] } })).length;
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    const leaked = (await docker.listContainers({ all: true, filters: { label: [label] } })).length;
    const sorted = [...normalLatencies].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))] ?? NaN;

    console.log(`\nfnts soak: ${SECONDS} s of hostile functions and clients against one server process\n`);
    console.log(renderTable(['kind', 'status', 'calls'], tally.rows()));
    console.log('');
    console.log(renderTable(['figure', 'value'], [
      ['server RSS before (MiB)', fmt(rssBefore, 1)],
      ['server RSS peak (MiB)', fmt(peakRss, 1)],
      ['server RSS after (MiB)', fmt(rssAfter, 1)],
      ['server log written during the soak (MiB)', fmt((logBytes - logBefore) / 1024 / 1024, 2)],
      ['GET logs?tail=1000 of the flooding fn', `${logs.statusCode}, ${fmt(logsBytes / 1024, 0)} KiB`],
      ['normal calls p50 / p99 (ms)', `${fmt(p(50), 0)} / ${fmt(p(99), 0)}`],
      ['containers live at the end', String(live)],
      ['containers leaked after shutdown', String(leaked)],
      ['server exit code', String(child.exitCode)],
    ]));
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
