import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord as CallJson } from '@fnts/api';
import { expectError, ID, RFC3339_MS, type ListJson } from './support/api.js';
import { ContainerFixture } from './support/fixtures.js';

/** Detached calls are stored before their 202, wait for capacity, survive restarts; every call leaves a record. */

const WORKER = `
import { handle } from '@fnts/fdk';
handle(async (input: { sleep?: number; fail?: boolean }, ctx) => {
  console.log('start ' + ctx.callId);
  if (input?.sleep) await new Promise((r) => setTimeout(r, input.sleep));
  if (input?.fail) throw new Error('asked to fail');
  console.log('ran ' + ctx.callId);
  return { ok: true };
});
`;

const fx = new ContainerFixture();
let image: string;

beforeAll(async () => {
  await fx.setup();
  image = await fx.image('detached', WORKER);
});
afterAll(() => fx.teardown());

/** Polls until `check` gives a value or the time is up (then the last attempt's error or undefined). */
async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined || Date.now() > until) return value;
    await sleep(200);
  }
}

const detached = (server: FastifyInstance, fnId: string, input: unknown) =>
  fx.invoke(server, fnId, input, { 'fn-invoke-type': 'detached' });

async function calls(server: FastifyInstance, fnId: string, query = 'per_page=100'): Promise<ListJson<CallJson>> {
  const res = await server.inject({ method: 'GET', url: `/v2/fns/${fnId}/calls?${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<ListJson<CallJson>>();
}

async function call(server: FastifyInstance, fnId: string, callId: string): Promise<CallJson> {
  const res = await server.inject({ method: 'GET', url: `/v2/fns/${fnId}/calls/${callId}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<CallJson>();
}

/** Calls whose function printed `<word> <call id>`, from the function's log. */
async function printed(server: FastifyInstance, fnId: string, word: string): Promise<Set<string>> {
  const res = await server.inject({ method: 'GET', url: `/v2/fns/${fnId}/logs?tail=1000` });
  const lines = res.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { line: string });
  return new Set(lines.map((l) => l.line.split(' ')).filter(([w]) => w === word).map(([, id]) => id as string));
}

const finished = (c: CallJson) => !['queued', 'running'].includes(c.status);

describe('durable detached calls', () => {
  it('runs every one of 50 detached calls on a function with 2 containers (1 s each): none dropped', async () => {
    const server = await fx.server();
    const { fnId } = await fx.deploy(server, { image, max_containers: 2 });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => detached(server, fnId, { sleep: 1000 })));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(50).fill(202));
    const ids = answers.map((r) => String(r.headers['fn-call-id']));
    expect(new Set(ids).size).toBe(50);

    const done = await waitFor(async () => {
      const list = (await calls(server, fnId)).items;
      return list.length === 50 && list.every(finished) ? list : undefined;
    }, 90_000);
    const elapsed = Date.now() - started;
    expect(done?.map((c) => c.status)).toEqual(Array(50).fill('success'));
    expect(new Set(done?.map((c) => c.id))).toEqual(new Set(ids));
    expect(await waitFor(async () => ((await printed(server, fnId, 'ran')).size === 50 ? true : undefined), 5000)).toBe(true);
    expect(await printed(server, fnId, 'ran')).toEqual(new Set(ids));
    // Two containers at once, so 25 rounds of 1 s at least, and no call needed the agent's retry path.
    expect(elapsed).toBeGreaterThanOrEqual(25_000);
    expect(done?.every((c) => c.attempts === 1 && c.type === 'detached')).toBe(true);
    expect((await fx.containers(fnId)).length).toBeLessThanOrEqual(2);
    console.log(`50 detached calls x 1 s on 2 containers: all ran in ${elapsed} ms`);
  }, 150_000);

  it('runs after a restart a call answered 202 before it, and the one the shutdown cut short', async () => {
    const env = { FNTS_DB: join(fx.work, 'restart.db'), FNTS_SHUTDOWN_GRACE_MS: '0' };
    const first = await fx.server(env);
    const { fnId } = await fx.deploy(first, { image, max_containers: 1 });
    const long = String((await detached(first, fnId, { sleep: 3000 })).headers['fn-call-id']);
    const waiting = await detached(first, fnId, {});
    expect(waiting.statusCode).toBe(202);
    const queued = String(waiting.headers['fn-call-id']);
    // The long call holds the function's one slot, so the second stays queued in the store.
    expect(await waitFor(async () => ((await printed(first, fnId, 'start')).has(long) ? true : undefined), 20_000)).toBe(true);
    expect((await call(first, fnId, queued)).status).toBe('queued');
    await first.close();

    const second = await fx.server(env);
    await second.ready();
    const both = await waitFor(async () => {
      const list = (await calls(second, fnId)).items;
      return list.length === 2 && list.every(finished) ? list : undefined;
    }, 30_000);
    expect(both?.map((c) => [c.id, c.status])).toEqual([[queued, 'success'], [long, 'success']]);
    // Output comes over the container's stdout, which may trail the call's answer.
    expect(await waitFor(async () => ((await printed(second, fnId, 'ran')).size === 2 ? true : undefined), 5000)).toBe(true);
    expect(await printed(second, fnId, 'ran')).toEqual(new Set([queued, long]));
    const record = await call(second, fnId, queued);
    expect(record).toMatchObject({ id: queued, fn_id: fnId, type: 'detached', status: 'success', attempts: 1 });
    for (const t of [record.created_at, record.started_at, record.completed_at]) expect(t).toMatch(RFC3339_MS);
    expect(Date.parse(record.completed_at as string)).toBeGreaterThanOrEqual(Date.parse(record.started_at as string));
    // The cut-short call had started once before the shutdown.
    expect((await call(second, fnId, long)).attempts).toBe(2);
  }, 90_000);

  it('retries a detached call the platform throttles until capacity frees up', async () => {
    const server = await fx.server({ FNTS_MAX_QUEUE_PER_FN: '0', FNTS_DETACHED_RETRY_BASE_MS: '100', FNTS_DETACHED_RETRY_MAX_MS: '400' });
    const { fnId } = await fx.deploy(server, { image, max_containers: 1 });
    expect((await fx.invoke(server, fnId, {})).statusCode).toBe(200);
    const holding = fx.invoke(server, fnId, { sleep: 2000 });
    // The sync call holds the only container (its function has printed), so the pool has no room and no queue.
    expect(await waitFor(async () => ((await printed(server, fnId, 'start')).size === 2 ? true : undefined), 20_000)).toBe(true);
    const res = await detached(server, fnId, {});
    expect(res.statusCode).toBe(202);
    const id = String(res.headers['fn-call-id']);
    expect((await holding).statusCode).toBe(200);
    const record = await waitFor(async () => {
      const c = await call(server, fnId, id);
      return finished(c) ? c : undefined;
    }, 20_000);
    expect(record).toMatchObject({ status: 'success', type: 'detached' });
    expect(record?.attempts).toBeGreaterThan(1);
  }, 60_000);

  it('answers 503 with a code, before any 202, once the queue is full', async () => {
    const server = await fx.server({ FNTS_DETACHED_MAX_QUEUED: '1' });
    const { fnId } = await fx.deploy(server, { image, max_containers: 1 });
    expect((await detached(server, fnId, { sleep: 1500 })).statusCode).toBe(202);
    const full = await detached(server, fnId, {});
    expectError(full, 503, /too many detached calls/, 'FNTS_ERR_CALL_QUEUE_FULL');
    expect(full.headers['retry-after']).toBe('15');
    expect((await calls(server, fnId)).items).toHaveLength(1);
  });
});

describe('call records', () => {
  it('records sync and detached calls with status, error and times, and lists them newest first page by page', async () => {
    const server = await fx.server();
    const { fnId, appId } = await fx.deploy(server, { image });
    const ok = await fx.invoke(server, fnId, {});
    expect(ok.statusCode).toBe(200);
    const failed = await fx.invoke(server, fnId, { fail: true });
    expect(failed.statusCode).toBe(502);
    const det = String((await detached(server, fnId, { fail: true })).headers['fn-call-id']);
    const detRecord = await waitFor(async () => {
      const c = await call(server, fnId, det);
      return finished(c) ? c : undefined;
    }, 20_000);
    expect(detRecord).toMatchObject({ type: 'detached', status: 'error', error_code: 'FNTS_ERR_CALL_FUNCTION_FAILED', attempts: 1 });

    const okId = String(ok.headers['fn-call-id']);
    const failedId = String(failed.headers['fn-call-id']);
    const page1 = await calls(server, fnId, 'per_page=2');
    expect(page1.items.map((c) => c.id)).toEqual([det, failedId]);
    expect(page1.next_cursor).toBeDefined();
    const page2 = await calls(server, fnId, `per_page=2&cursor=${page1.next_cursor}`);
    expect(page2.items.map((c) => c.id)).toEqual([okId]);
    expect(page2.next_cursor).toBeUndefined();

    const sync = await call(server, fnId, okId);
    expect(sync).toMatchObject({ id: okId, app_id: appId, fn_id: fnId, type: 'sync', status: 'success', attempts: 1 });
    expect(sync.id).toMatch(ID);
    for (const t of [sync.created_at, sync.started_at, sync.completed_at]) expect(t).toMatch(RFC3339_MS);
    expect(sync.duration_ms).toBeGreaterThanOrEqual(0);
    expect(await call(server, fnId, failedId)).toMatchObject({
      status: 'error', error: 'function failed: Error: asked to fail', error_code: 'FNTS_ERR_CALL_FUNCTION_FAILED',
    });
    expectError(await server.inject({ method: 'GET', url: `/v2/fns/${fnId}/calls/01ABCDEFGHJKMNPQRSTVWXYZ00` }), 404, 'Call not found', 'FNTS_ERR_CALL_NOT_FOUND');
    expectError(await server.inject({ method: 'GET', url: `/v2/fns/${fnId}/calls?cursor=%21%21` }), 400, /invalid cursor/);
  });

  it('records a stream trigger\'s calls with the trigger and the batch they carried', async () => {
    const server = await fx.server();
    const { fnId, appId } = await fx.deploy(server, { image });
    const post = async (url: string, payload: unknown) => {
      const res = await server.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ id: string }>();
    };
    await post('/v2/streams', { name: 'recorded', partitions: 1 });
    const trigger = await post('/v2/triggers', {
      name: 'rec', app_id: appId, fn_id: fnId, type: 'stream', source: 'recorded', options: { start_position: 'earliest', value_encoding: 'utf8' },
    });
    await post('/v2/streams/recorded/messages', { encoding: 'utf8', messages: [{ value: 'a' }, { value: 'b' }] });
    const records = await waitFor(async () => {
      const list = (await calls(server, fnId)).items;
      return list.length > 0 && list.every(finished) ? list : undefined;
    }, 30_000);
    expect(records?.[records.length - 1]).toMatchObject({
      type: 'sync', status: 'success', trigger_id: trigger.id, batch: expect.stringMatching(/^recorded\/0@0-[01]$/),
    });
  });
});
