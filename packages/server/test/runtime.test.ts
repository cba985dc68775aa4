import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContainerFixture } from './support/fixtures.js';

/** The agent as a production runtime: scaling, limits, failures, eviction, metrics, shutdown — on real Docker. */

const WORKER = `
import { randomUUID } from 'node:crypto';
import { handle } from '@fnts/fdk';
const instance = randomUUID();
const hold: Buffer[] = [];
handle(async (input: { sleep?: number; allocMiB?: number }) => {
  for (let i = 0; i < (input?.allocMiB ?? 0); i++) hold.push(Buffer.alloc(1024 * 1024, 1));
  if (input?.sleep) await new Promise((r) => setTimeout(r, input.sleep));
  return { instance };
});
`;

const fx = new ContainerFixture();
let image: string;

beforeAll(async () => {
  await fx.setup();
  image = await fx.image('worker', WORKER);
});
afterAll(() => fx.teardown());

const instanceOf = (body: string) => (JSON.parse(body) as { instance: string }).instance;

/** Waits until the server's /metrics shows `pattern`: a call holding a container, a call in the queue. */
async function untilMetrics(server: FastifyInstance, pattern: RegExp): Promise<void> {
  await vi.waitFor(
    async () => {
      const res = await server.inject({ method: 'GET', url: '/metrics' });
      if (!pattern.test(res.body)) throw new Error(`/metrics never showed ${pattern}:\n${res.body}`);
    },
    { timeout: 10_000, interval: 20 },
  );
}

const oneBusy = /^fnts_containers\{state="busy"\} 1$/m;
const queuedFor = (fnId: string, n: number) => new RegExp(`^fnts_queue_length\\{fn_id="${fnId}",app_name="[^"]+",fn_name="fn"\\} ${n}$`, 'm');

describe('scaling and limits', () => {
  let server: FastifyInstance;
  beforeAll(async () => {
    server = await fx.server({ FNTS_MAX_QUEUE_PER_FN: '10' });
  });

  it('scales out under concurrent calls up to max_containers, queueing the rest', async () => {
    const { fnId } = await fx.deploy(server, { image, max_containers: 3 });
    // Two containers start at once (one per core); the third once the waiting calls have waited about as long as a
    // start took, and it then takes as long again to start (agent/scale-out.ts). The calls last long enough for it to
    // get some of the six even when a start takes over a second (a CI run with every project's tests at once): with
    // 700 ms calls the first two containers had once served all six before the third was up.
    const results = await Promise.all(Array.from({ length: 6 }, () => fx.invoke(server, fnId, { sleep: 3000 })));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(results.map((r) => instanceOf(r.body))).size).toBe(3);
    expect(await fx.containers(fnId)).toHaveLength(3);
  });

  it('serves several calls at once on one container when the function sets concurrency', async () => {
    const { fnId } = await fx.deploy(server, { image, max_containers: 1, concurrency: 4 });
    const results = await Promise.all(Array.from({ length: 4 }, () => fx.invoke(server, fnId, { sleep: 500 })));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(results.map((r) => instanceOf(r.body))).size).toBe(1);
    expect(await fx.containers(fnId)).toHaveLength(1);
  });
});

describe('bounded waiting', () => {
  it('answers 503 with Retry-After beyond the queue capacity, and serves the queued call', async () => {
    const server = await fx.server({ FNTS_MAX_QUEUE_PER_FN: '1' });
    const { fnId } = await fx.deploy(server, { image, max_containers: 1 });
    expect((await fx.invoke(server, fnId)).statusCode).toBe(200); // warm
    const running = fx.invoke(server, fnId, { sleep: 1000 });
    await untilMetrics(server, oneBusy);
    const queued = fx.invoke(server, fnId, { sleep: 10 });
    await untilMetrics(server, queuedFor(fnId, 1));
    const rejected = await fx.invoke(server, fnId);
    expect(rejected.statusCode).toBe(503);
    expect(rejected.headers['retry-after']).toBe('15');
    expect(rejected.json()).toEqual({
      message: 'Timed out - server too busy', code: 'FNTS_ERR_SERVER_BUSY', call_id: rejected.headers['fn-call-id'],
    });
    expect((await running).statusCode).toBe(200);
    expect((await queued).statusCode).toBe(200);
  });

  it('answers 503 when a queued call waits longer than the queue timeout', async () => {
    const server = await fx.server({ FNTS_QUEUE_TIMEOUT_MS: '300' });
    const { fnId } = await fx.deploy(server, { image, max_containers: 1 });
    expect((await fx.invoke(server, fnId)).statusCode).toBe(200); // warm
    const running = fx.invoke(server, fnId, { sleep: 1500 });
    await untilMetrics(server, oneBusy);
    const waited = await fx.invoke(server, fnId);
    expect(waited.statusCode).toBe(503);
    expect(waited.json()).toMatchObject({ code: 'FNTS_ERR_SERVER_BUSY' });
    expect((await running).statusCode).toBe(200);
  });
});

describe('images', () => {
  it('pulls a missing image when FNTS_IMAGE_PULL=missing, and names the registry error when the pull fails', async () => {
    const server = await fx.server({ FNTS_IMAGE_PULL: 'missing' });
    // A registry on a closed loopback port: the engine's pull fails at once, and only loopback is contacted.
    const { fnId } = await fx.deploy(server, { image: '127.0.0.1:9/fnts-missing:1' });
    const res = await fx.invoke(server, fnId);
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'FNTS_ERR_IMAGE_PULL_FAILED' });
    expect(res.json<{ message: string }>().message).toMatch(/^Failed to pull image '127\.0\.0\.1:9\/fnts-missing:1': /);
  });

  it('uses only local images by default and says how to pull', async () => {
    const server = await fx.server();
    const { fnId } = await fx.deploy(server, { image: 'fnts-missing-local:1' });
    const res = await fx.invoke(server, fnId);
    expect(res.statusCode).toBe(404);
    expect(res.json<{ message: string }>().message).toContain('FNTS_IMAGE_PULL=missing');
  });
});

describe('memory', () => {
  it('reports an OOM kill as out of memory, and the next call runs on a fresh container', async () => {
    const server = await fx.server();
    const { fnId } = await fx.deploy(server, { image, memory: 64 });
    const warm = await fx.invoke(server, fnId);
    const oom = await fx.invoke(server, fnId, { allocMiB: 256 });
    expect(oom.statusCode).toBe(502);
    expect(oom.json()).toMatchObject({ code: 'FNTS_ERR_CALL_RECEIVE_FAILED' });
    expect(oom.json<{ message: string }>().message).toContain('out of memory');
    const next = await fx.invoke(server, fnId);
    expect(next.statusCode).toBe(200);
    expect(instanceOf(next.body)).not.toBe(instanceOf(warm.body));
  });

  it('evicts idle containers of other functions when the memory budget is short', async () => {
    const server = await fx.server({ FNTS_MAX_TOTAL_MEMORY_MIB: '128' });
    const a = await fx.deploy(server, { image, memory: 128 });
    const b = await fx.deploy(server, { image, memory: 128 });
    expect((await fx.invoke(server, a.fnId)).statusCode).toBe(200);
    expect(await fx.containers(a.fnId)).toHaveLength(1);
    expect((await fx.invoke(server, b.fnId)).statusCode).toBe(200);
    expect(await fx.containers(a.fnId)).toHaveLength(0);
    expect(await fx.containers(b.fnId)).toHaveLength(1);
  });
});

describe('observability and shutdown', () => {
  it("sends a function's output to the app's syslog_url and to the logs API, tagged with the call", async () => {
    const { createSocket } = await import('node:dgram');
    const received: string[] = [];
    const sock = createSocket('udp4').on('message', (m) => received.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const server = await fx.server();
      const logger = await fx.image('logger', "import { handle } from '@fnts/fdk';\nhandle(async (_i: unknown, ctx) => { console.log(`hello from ${ctx.callId}`); return 1; });\n");
      const { fnId } = await fx.deploy(server, { image: logger }, { syslog_url: `udp://127.0.0.1:${sock.address().port}` });
      const res = await fx.invoke(server, fnId);
      expect(res.statusCode).toBe(200);
      const callId = String(res.headers['fn-call-id']);
      // Syslog is sent after the call's answer: wait for the datagram.
      await vi.waitFor(() => expect(received.join('')).toContain(`hello from ${callId}`), { timeout: 5000, interval: 20 });
      expect(received.join('')).toContain(`fn_id=${fnId}`);
      // The server reads the same line from the container's attached output, on its own way from the engine: it may
      // come after the datagram.
      await vi.waitFor(async () => {
        const logs = await server.inject({ method: 'GET', url: `/v2/fns/${fnId}/logs?tail=10` });
        expect(logs.statusCode).toBe(200);
        const lines = logs.body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { call_id?: string; line: string });
        expect(lines).toContainEqual(expect.objectContaining({ call_id: callId, line: `hello from ${callId}` }));
      }, { timeout: 5000, interval: 20 });
    } finally {
      sock.close();
    }
  });

  it('exposes calls, durations, cold starts, containers and rejections on /metrics, by function id and names', async () => {
    const server = await fx.server();
    const { fnId, appName } = await fx.deploy(server, { image, name: 'metrics_fn-1' });
    expect((await fx.invoke(server, fnId)).statusCode).toBe(200);
    const res = await server.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const fn = `fn_id="${fnId}",app_name="${appName}",fn_name="metrics_fn-1"`;
    expect(res.body).toContain(`fnts_calls_total{${fn},outcome="success"} 1`);
    expect(res.body).toContain(`fnts_cold_starts_total{${fn}} 1`);
    expect(res.body).toContain(`fnts_call_duration_seconds_count{${fn}} 1`);
    // A call to a function that does not exist adds no series: names come from stored functions only.
    expect((await server.inject({ method: 'POST', url: '/invoke/01NOSUCHFN0000000000000000' })).statusCode).not.toBe(200);
    const after = await server.inject({ method: 'GET', url: '/metrics' });
    expect(after.body.split('\n').filter((l) => l.startsWith('fnts_calls_total{'))).toEqual([`fnts_calls_total{${fn},outcome="success"} 1`]);
    expect(res.body).toMatch(/fnts_containers\{state="idle"\} 1/);
    expect(res.body).toContain(`fnts_fn_containers{${fn},state="idle"} 1`);
    expect(res.body).toContain(`fnts_fn_containers{${fn},state="busy"} 0`);
    expect(res.body).toContain('# TYPE fnts_rejected_calls_total counter');
  });

  it('lets a running call finish on shutdown, refuses new ones, then removes every container', async () => {
    const { request } = await import('undici');
    const server = await fx.server();
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    const { fnId } = await fx.deploy(server, { image });
    const call = (input: unknown) =>
      request(`${url}/invoke/${fnId}`, { method: 'POST', body: JSON.stringify(input) }).then(async (r) => ({
        status: r.statusCode,
        body: await r.body.text(),
      }));
    expect((await call({})).status).toBe(200);
    const running = call({ sleep: 1000 });
    await untilMetrics(server, oneBusy);
    const closing = server.close();
    // Closing has begun once the router answers 503 to everything (or the listener is gone).
    const version = async (): Promise<number> => {
      try {
        const r = await request(`${url}/version`);
        await r.body.dump();
        return r.statusCode;
      } catch {
        return 0; // the listener is closed
      }
    };
    await vi.waitFor(async () => expect(await version()).not.toBe(200), { timeout: 5000, interval: 10 });
    // A new call is not served: the listener is closed (or, on a kept-alive connection, 503).
    const late = await call({}).catch((err: Error) => ({ status: 0, body: err.message }));
    expect(late.status === 0 || late.status === 503, JSON.stringify(late)).toBe(true);
    expect((await running).status).toBe(200);
    await closing;
    expect(await fx.containers(fnId)).toHaveLength(0);
  });
});
