import type { FastifyInstance } from 'fastify';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerFixture } from './support/fixtures.js';

/**
 * Hostile functions and clients (issue 12): none of them may take the server down, starve other callers or hide
 * the cause of a failure. Each case runs a function image built for it on real Docker, then checks that the server
 * still answers and that the next normal call succeeds.
 */

const ECHO = `
import { handle } from '@fnts/fdk';
handle(async (input: Buffer, ctx) => ({ bytes: input.length, headers: Object.keys(ctx.headers).map((h) => h.toLowerCase()) }),
  { inputMode: 'buffer' });
`;

/**
 * Writes straight to fd 1, waiting out EAGAIN: process.stdout would queue the writes inside the container until it
 * runs out of memory, so the flood would never reach the server.
 */
const WRITE_ALL = `
import { writeSync } from 'node:fs';
function writeAll(text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(1, bytes, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}
`;

// 600 x 1 MiB with no newline: once crashed the server (readline's RangeError: Invalid string length).
const NO_NEWLINE = `${WRITE_ALL}
import { handle } from '@fnts/fdk';
handle(async () => {
  const mib = 'y'.repeat(1 << 20);
  for (let i = 0; i < 600; i++) writeAll(mib);
  writeAll('\\nflood-done\\n');
  return { ok: true };
});
`;

// 600 lines of 1 MiB: the old ring kept 1000 such lines (the server grew by gigabytes; the logs API answered 500).
const LONG_LINES = `${WRITE_ALL}
import { handle } from '@fnts/fdk';
handle(async () => {
  const line = 'z'.repeat(1 << 20) + '\\n';
  for (let i = 0; i < 600; i++) writeAll(line);
  writeAll('flood-done\\n');
  return { ok: true };
});
`;

const TMP_WRITER = `
import { readFileSync, writeFileSync } from 'node:fs';
import { handle } from '@fnts/fdk';
handle(async (input: { text: string }) => {
  writeFileSync('/tmp/probe.txt', input.text);
  return { read: readFileSync('/tmp/probe.txt', 'utf8') };
});
`;

// Tries to write 1 GiB into the socket dir, a bind mount from the host.
const IOFS_FILLER = `
import { closeSync, openSync, writeSync } from 'node:fs';
import { handle } from '@fnts/fdk';
handle(async () => {
  const mib = Buffer.alloc(1 << 20, 1);
  let written = 0;
  const fd = openSync('/tmp/iofs/fill', 'w');
  try {
    for (let i = 0; i < 1024; i++) written += writeSync(fd, mib);
    return { written, error: null };
  } catch (err) {
    return { written, error: (err as NodeJS.ErrnoException).code };
  } finally {
    closeSync(fd);
  }
});
`;

// No FDK: publishes the socket as the contract says, then answers every request with bytes that are not HTTP.
const MALFORMED = `
import { chmodSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
const dir = (process.env.FN_LISTENER ?? '').replace(/^unix:/, '').replace(/\\/[^/]*$/, '');
const server = createServer((socket) => {
  socket.once('data', () => socket.end('HTTP/1.1 200 OK\\r\\nContent-Length: nonsense\\r\\n\\r\\nhello'));
});
server.listen(dir + '/phony.sock', () => {
  chmodSync(dir + '/phony.sock', 0o666);
  symlinkSync('phony.sock', dir + '/lsnr.sock');
});
`;

const fx = new ContainerFixture();
const images: Record<string, string> = {};
let server: FastifyInstance;
let echoFn: string;

beforeAll(async () => {
  await fx.setup();
  const sources = { echo: ECHO, nonl: NO_NEWLINE, lines: LONG_LINES, tmp: TMP_WRITER, iofs: IOFS_FILLER, malformed: MALFORMED };
  // One at a time: the first build makes the shared base image.
  for (const [name, source] of Object.entries(sources)) images[name] = await fx.image(`hostile-${name}`, source);
  server = await fx.server({ FNTS_LOG_RING_BYTES: String(2 * 1024 * 1024) });
  echoFn = (await fx.deploy(server, { image: images.echo as string })).fnId;
}, 300_000);
afterAll(() => fx.teardown(), 120_000);

/** The server answers and a normal function still runs. */
async function expectHealthy(app: FastifyInstance = server, fnId = echoFn): Promise<void> {
  expect((await app.inject({ method: 'GET', url: '/v2/apps' })).statusCode).toBe(200);
  const res = await fx.invoke(app, fnId, { ping: true });
  expect(res.statusCode).toBe(200);
}

interface LogLineJson {
  line: string;
  call_id?: string;
  continues?: true;
}

async function logs(fnId: string, tail: number): Promise<{ status: number; bytes: number; lines: LogLineJson[] }> {
  const res = await server.inject({ method: 'GET', url: `/v2/fns/${fnId}/logs?tail=${tail}` });
  const lines = res.statusCode === 200 ? res.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLineJson) : [];
  return { status: res.statusCode, bytes: res.rawPayload.length, lines };
}

/** Polls the logs API (bounded) until a line equal to `marker` appears (printed by the call `callId`, when given). */
async function waitForLine(fnId: string, marker: string, callId?: string, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await logs(fnId, 5)).lines.some((l) => l.line === marker && (callId === undefined || l.call_id === callId))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no log line ${marker} within ${timeoutMs} ms`);
}

/**
 * This process's memory right after a full GC (V8's gc, exposed at run time for this): what JS and its buffers still
 * hold (`retained`, where a leak of chunks or lines would show), and the RSS (which also keeps what the allocator has
 * not handed back to the system).
 */
function settledMemory(): { retained: number; rss: number } {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const m = process.memoryUsage();
  return { retained: m.heapUsed + m.external, rss: m.rss };
}

describe('output', () => {
  for (const [name, label] of [['nonl', '600 x 1 MiB without a newline'], ['lines', '600 lines of 1 MiB']] as const) {
    it(`survives ${label}: memory stays flat, lines are split and marked, the logs API answers`, async () => {
      const { fnId } = await fx.deploy(server, { image: images[name] as string, timeout: 120 });
      // Flat, not merely bounded: after a first flood has warmed the allocator, a second one of 600 MiB more leaves
      // the server's memory where the first left it. Both read after a full GC: under a loaded CI run the garbage of
      // 600 MiB of chunks was sometimes still uncollected (RSS up 120 MiB, gone at the next GC); a leak stays.
      const flood = async () => {
        const res = await fx.invoke(server, fnId);
        expect(res.statusCode).toBe(200);
        await waitForLine(fnId, 'flood-done', String(res.headers['fn-call-id']));
      };
      await flood();
      const afterFirst = settledMemory();
      await flood();
      const afterSecond = settledMemory();
      // What is still held after 600 MiB more stays within a sixth of it (bounded rings filling up: 6–38 MB measured);
      // the RSS, which under a loaded CI run also kept up to 98 MiB the allocator had not handed back yet, stays far
      // below the flood's size.
      expect(afterSecond.retained - afterFirst.retained).toBeLessThan(96 * 1024 * 1024);
      expect(afterSecond.rss - afterFirst.rss).toBeLessThan(256 * 1024 * 1024);

      const tail = await logs(fnId, 1000);
      expect(tail.status).toBe(200);
      expect(tail.bytes).toBeLessThan(4 * 1024 * 1024); // the ring's bound, not 1000 MiB
      expect(tail.lines.length).toBeGreaterThan(10);
      for (const l of tail.lines) expect(Buffer.byteLength(l.line)).toBeLessThanOrEqual(16 * 1024);
      expect(tail.lines.filter((l) => l.continues).length).toBeGreaterThan(0);
      await expectHealthy();
      expect((await fx.invoke(server, fnId)).statusCode).toBe(200);
    }, 180_000);
  }
});

/** One request on a real socket, with `Expect: 100-continue`: the body is sent only once the server says 100. */
function expectContinue(url: string, body: Buffer): Promise<{ status: number; continued: boolean; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request(url, {
      method: 'POST',
      headers: { expect: '100-continue', 'content-length': String(body.length), 'content-type': 'application/octet-stream', connection: 'keep-alive, x-hop' , 'x-hop': '1', 'proxy-authorization': 'Basic eDp5', te: 'trailers' },
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, continued, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('clients', () => {
  let base: string;
  let listening: FastifyInstance;
  let fnId: string;
  beforeAll(async () => {
    listening = await fx.server({ FNTS_MAX_REQUEST_BYTES: String(2 * 1024 * 1024), FNTS_BODY_READ_TIMEOUT_MS: '3000' });
    fnId = (await fx.deploy(listening, { image: images.echo as string, max_containers: 2 })).fnId;
    await listening.listen({ host: '127.0.0.1', port: 0 });
    const address = listening.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  it('answers Expect: 100-continue with 100, runs the call, and forwards no hop-by-hop header', async () => {
    const res = await expectContinue(`${base}/invoke/${fnId}`, Buffer.alloc(1536 * 1024, 'x'));
    expect(res.continued).toBe(true);
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as { bytes: number; headers: string[] };
    expect(seen.bytes).toBe(1536 * 1024);
    for (const h of ['expect', 'connection', 'keep-alive', 'x-hop', 'proxy-authorization', 'te', 'trailer', 'upgrade']) {
      expect(seen.headers).not.toContain(h);
    }
    await expectHealthy(listening, fnId);
  });

  it('answers 413 at once, without 100, when the declared body is over the limit', async () => {
    const res = await expectContinue(`${base}/invoke/${fnId}`, Buffer.alloc(3 * 1024 * 1024, 'x'));
    expect(res.status).toBe(413);
    expect(res.continued).toBe(false);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'FNTS_ERR_API_PAYLOAD_TOO_LARGE' });
    await expectHealthy(listening, fnId);
  });

  it('holds no container for slow senders: 10 at 1 byte/s do not delay a normal caller, and get 408 themselves', async () => {
    const port = new URL(base).port;
    const slow: Socket[] = [];
    const answers: Promise<string>[] = [];
    for (let i = 0; i < 10; i++) {
      const socket = connect(Number(port), '127.0.0.1');
      slow.push(socket);
      answers.push(new Promise((resolve) => {
        let got = '';
        socket.on('data', (d: Buffer) => (got += d.toString()));
        socket.on('close', () => resolve(got));
        socket.on('error', () => undefined);
      }));
      socket.write(`POST /invoke/${fnId} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n`);
    }
    // One byte a second per slow client, for at most 10 s.
    let ticks = 0;
    const drip = setInterval(() => {
      if (++ticks > 10) return clearInterval(drip);
      for (const s of slow) if (!s.destroyed) s.write('x');
    }, 1000);
    try {
      const started = Date.now();
      const res = await fetch(`${base}/invoke/${fnId}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(3000);
      const slowAnswers = await Promise.all(answers);
      for (const a of slowAnswers) expect(a).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
      for (const s of slow) s.destroy();
    }
    await expectHealthy(listening, fnId);
  }, 30_000);
});

describe('streamed bodies', () => {
  it('reads a long chunked body whole first once the cap on streaming bodies is taken', async () => {
    const capped = await fx.server({ FNTS_MAX_STREAMING_BODIES: '0', FNTS_STREAM_BODY_THRESHOLD_BYTES: '1024' });
    const { fnId } = await fx.deploy(capped, { image: images.echo as string });
    const res = await capped.inject({
      method: 'POST', url: `/invoke/${fnId}`, payload: Readable.from([Buffer.alloc(64 * 1024, 'c')]),
      headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    });
    expect(res.statusCode).toBe(200);
    const seen = res.json<{ bytes: number; headers: string[] }>();
    expect(seen.bytes).toBe(64 * 1024);
    expect(seen.headers).toContain('content-length'); // sent whole, not streamed
    await expectHealthy(capped, fnId);
  });
});

describe('filesystem', () => {
  it('gives the function a writable /tmp', async () => {
    const { fnId } = await fx.deploy(server, { image: images.tmp as string });
    const res = await fx.invoke(server, fnId, { text: 'kept in tmp' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ read: 'kept in tmp' });
    await expectHealthy();
  });

  it('bounds what a function can write into its socket dir: 1 GiB fails, the host keeps its disk', async () => {
    const { fnId } = await fx.deploy(server, { image: images.iofs as string, timeout: 60 });
    const res = await fx.invoke(server, fnId);
    expect(res.statusCode).toBe(200);
    const out = res.json<{ written: number; error: string | null }>();
    expect(out.error).toBe('ENOSPC');
    expect(out.written).toBeLessThanOrEqual(1024 * 1024);
    await expectHealthy();
  }, 90_000);
});

describe('causes', () => {
  it('names a malformed HTTP response as such, not as a killed container, and replaces the container', async () => {
    const { fnId } = await fx.deploy(server, { image: images.malformed as string });
    const res = await fx.invoke(server, fnId);
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'FNTS_ERR_CALL_INVALID_RESPONSE' });
    expect(res.json<{ message: string }>().message).toMatch(/malformed/);
    expect(res.json<{ message: string }>().message).not.toMatch(/137/);
    await fx.waitForContainers(fnId, (list) => list.length === 0);
    const again = await fx.invoke(server, fnId);
    expect(again.statusCode).toBe(502);
    expect(again.json()).toMatchObject({ code: 'FNTS_ERR_CALL_INVALID_RESPONSE' });
    await expectHealthy();
  });
});
