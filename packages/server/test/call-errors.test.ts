import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord as CallJson } from '@fnts/api';
import { errorDetailOf, readErrorBody } from '../src/agent/fdk-error.js';
import { LogHub } from '../src/agent/log-hub.js';
import { createOn, expectError, ID, type ListJson } from './support/api.js';
import { ContainerFixture } from './support/fixtures.js';

/**
 * A failed call leads to its fix: the answer names the call (header and body) and carries the function's own error
 * message; the call's record keeps that message; `GET /v2/fns/{id}/calls/{call_id}/log` gives what the call printed.
 * Real containers, the server in-process.
 */

const FUNC = `
import { handle } from '@fnts/fdk';
interface Input { action?: string; lines?: number; size?: number; ms?: number; status?: number; records?: unknown[] }
handle(async (input: Input, ctx) => {
  if (Array.isArray(input?.records)) throw new Error('cannot take a batch');
  const action = input?.action ?? 'ok';
  if (action === 'quiet') return 'said nothing';
  console.log('begin ' + ctx.callId);
  for (let i = 0; i < (input.lines ?? 0); i++) console.log('line ' + i + ' ' + 'x'.repeat(input.size ?? 10));
  if (action === 'throw') throw new Error('cannot parse order 42');
  if (action === 'throw-long') throw new Error('z'.repeat(10_000));
  if (action === 'exit') process.exit(3);
  if (action === 'sleep') await new Promise((r) => setTimeout(r, input.ms ?? 0));
  if (action === 'status') ctx.httpGateway.statusCode = input.status ?? 500;
  console.error('end ' + ctx.callId);
  return { ok: true };
});
`;

const fx = new ContainerFixture();
let image: string;
let server: FastifyInstance;

beforeAll(async () => {
  await fx.setup();
  image = await fx.image('call-errors', FUNC);
  server = await fx.server();
});
afterAll(() => fx.teardown());

const get = (s: FastifyInstance, url: string) => s.inject({ method: 'GET', url });
const callIdOf = (res: { headers: Record<string, unknown> }) => String(res.headers['fn-call-id']);

/** A call's log once `done` holds for it (bounded polling: output arrives through Docker, after the answer). */
async function logUntil(s: FastifyInstance, fnId: string, callId: string, done: (body: string) => boolean): Promise<LightMyRequestResponse> {
  const until = Date.now() + 10_000;
  for (;;) {
    const res = await get(s, `/v2/fns/${fnId}/calls/${callId}/log`);
    if ((res.statusCode === 200 && done(res.body)) || Date.now() > until) return res;
    await sleep(50);
  }
}

describe('the answer of a failed call', () => {
  it('carries the call id in Fn-Call-Id and the body, and the function\'s error message as detail', async () => {
    const { fnId } = await fx.deploy(server, { image });
    const res = await fx.invoke(server, fnId, { action: 'throw' });
    const body = expectError(res, 502, 'function failed', 'FNTS_ERR_CALL_FUNCTION_FAILED');
    expect(callIdOf(res)).toMatch(ID);
    expect(body).toEqual({
      message: 'function failed', code: 'FNTS_ERR_CALL_FUNCTION_FAILED', detail: 'Error: cannot parse order 42', call_id: callIdOf(res),
    });
  });

  it('bounds the function\'s message to 4 KiB', async () => {
    const { fnId } = await fx.deploy(server, { image });
    const body = expectError(await fx.invoke(server, fnId, { action: 'throw-long' }), 502, 'function failed');
    expect(Buffer.byteLength(body.detail ?? '')).toBeLessThanOrEqual(4096);
    expect(body.detail).toMatch(/^Error: z+…$/);
  });

  it('names the call of a crash and of a timeout, with no detail the function did not give', async () => {
    const { fnId } = await fx.deploy(server, { image, timeout: 1 });
    const crashed = await fx.invoke(server, fnId, { action: 'exit' });
    const crash = expectError(crashed, 502, /^error receiving function response/, 'FNTS_ERR_CALL_RECEIVE_FAILED');
    expect(crash.call_id).toBe(callIdOf(crashed));
    expect(crash.detail).toBeUndefined();
    const slow = await fx.invoke(server, fnId, { action: 'sleep', ms: 3000 });
    const timeout = expectError(slow, 504, 'Timed out', 'FNTS_ERR_CALL_TIMEOUT');
    expect(timeout.call_id).toBe(callIdOf(slow));
  });

  it('through an HTTP trigger names the call but keeps the function\'s message from its users, and passes its own errors through', async () => {
    const { appId, appName, fnId } = await fx.deploy(server, { image });
    await createOn(server, '/v2/triggers', { name: 'web', app_id: appId, fn_id: fnId, type: 'http', source: '/web' });
    const res = await server.inject({ method: 'POST', url: `/t/${appName}/web`, payload: { action: 'throw' } });
    const body = expectError(res, 502, 'function failed', 'FNTS_ERR_CALL_FUNCTION_FAILED');
    expect(body).toEqual({ message: 'function failed', code: 'FNTS_ERR_CALL_FUNCTION_FAILED', call_id: callIdOf(res) });
    // The function's own error answer is the function's business: status and body as it set them.
    const own = await server.inject({ method: 'POST', url: `/t/${appName}/web`, payload: { action: 'status', status: 500 } });
    expect({ status: own.statusCode, body: own.json<unknown>() }).toEqual({ status: 500, body: { ok: true } });
    expect(callIdOf(own)).toMatch(ID);
  });
});

describe('call history and per-call output', () => {
  it('records the failed call with its error text, lists it, and answers what it printed as text', async () => {
    const { fnId } = await fx.deploy(server, { image });
    const ok = await fx.invoke(server, fnId, { lines: 2 });
    expect(ok.statusCode).toBe(200);
    const failed = await fx.invoke(server, fnId, { action: 'throw', lines: 1 });
    const id = callIdOf(failed);

    const list = await get(server, `/v2/fns/${fnId}/calls`);
    expect(list.json<ListJson<CallJson>>().items.map((c) => [c.id, c.status])).toEqual([[id, 'error'], [callIdOf(ok), 'success']]);
    expect((await get(server, `/v2/fns/${fnId}/calls/${id}`)).json<CallJson>()).toMatchObject({
      id, status: 'error', error: 'function failed: Error: cannot parse order 42', error_code: 'FNTS_ERR_CALL_FUNCTION_FAILED',
    });

    // Output reaches the server a moment after the answer (it comes through Docker, not the socket).
    const log = await logUntil(server, fnId, id, (body) => body.includes('cannot parse order 42'));
    expect(log.statusCode).toBe(200);
    expect(log.headers['content-type']).toBe('text/plain; charset=utf-8');
    // Its own lines only (the FDK's report of the error with its stack among them), never the other call's.
    const lines = log.body.split('\n');
    expect(lines).toEqual(expect.arrayContaining([`begin ${id}`, 'line 0 xxxxxxxxxx', `fnts-fdk: function failed in call ${id}: Error: cannot parse order 42`]));
    expect(log.body).not.toContain(callIdOf(ok));
    expect(log.body.endsWith('\n')).toBe(true);
    const okLog = await logUntil(server, fnId, callIdOf(ok), (body) => body.includes('end '));
    // stdout and stderr come through separate pipes: lines of one are in order, not across the two.
    expect(okLog.body.split('\n').sort()).toEqual(['', `begin ${callIdOf(ok)}`, `end ${callIdOf(ok)}`, 'line 0 xxxxxxxxxx', 'line 1 xxxxxxxxxx']);
  });

  it('answers an empty log for a call that printed nothing, and 404 with a code for an unknown call', async () => {
    const { fnId } = await fx.deploy(server, { image });
    const quiet = await fx.invoke(server, fnId, { action: 'quiet' });
    expect(quiet.statusCode).toBe(200);
    const log = await get(server, `/v2/fns/${fnId}/calls/${callIdOf(quiet)}/log`);
    expect({ status: log.statusCode, body: log.body }).toEqual({ status: 200, body: '' });
    expectError(await get(server, `/v2/fns/${fnId}/calls/01ABCDEFGHJKMNPQRSTVWXYZ00/log`), 404, 'Call not found', 'FNTS_ERR_CALL_NOT_FOUND');
  });

  it('answers 404 FNTS_ERR_CALL_LOG_NOT_KEPT once a call\'s output has rotated out of the function\'s ring', async () => {
    const small = await fx.server({ FNTS_LOG_RING_BYTES: String(16 * 1024) });
    const { fnId } = await fx.deploy(small, { image });
    const early = await fx.invoke(small, fnId, { lines: 1 });
    expect(early.statusCode).toBe(200);
    // 100 lines of ~400 bytes each cost far more than the 16 KiB ring holds.
    const flood = await fx.invoke(small, fnId, { lines: 100, size: 400 });
    expect(flood.statusCode).toBe(200);
    await logUntil(small, fnId, callIdOf(flood), (body) => body.includes('line 99 '));
    expectError(await get(small, `/v2/fns/${fnId}/calls/${callIdOf(early)}/log`), 404, /no longer kept/, 'FNTS_ERR_CALL_LOG_NOT_KEPT');
  });

  it('names a failed stream batch\'s call and the function\'s message in its dead letter, and records the call with its batch', async () => {
    const { appId, appName, fnId } = await fx.deploy(server, { image });
    const stream = `orders-${fx.run}`;
    await createOn(server, '/v2/streams', { name: stream, partitions: 1 });
    await createOn(server, '/v2/triggers', {
      name: 'consume', app_id: appId, fn_id: fnId, type: 'stream', source: stream,
      options: { start_position: 'earliest', value_encoding: 'utf8', max_attempts: 1, bisect_on_error: false },
    });
    await createOn(server, `/v2/streams/${stream}/messages`, { encoding: 'utf8', messages: [{ value: 'a' }] });
    const dlq = `${appName}.fn.consume.dlq`;
    const until = Date.now() + 30_000;
    let error: string | undefined;
    while (error === undefined && Date.now() < until) {
      const res = await get(server, `/v2/streams/${dlq}/messages?partition=0&offset=0`);
      error = res.statusCode === 200 ? res.json<{ messages: { headers: Record<string, string> }[] }>().messages[0]?.headers['fnts.dlq.error'] : undefined;
      if (error === undefined) await sleep(100);
    }
    const callId = /^function failed: Error: cannot take a batch \(call (\w+)\)$/.exec(error ?? '')?.[1];
    expect(callId, error).toMatch(ID);
    expect((await get(server, `/v2/fns/${fnId}/calls/${callId}`)).json<CallJson>()).toMatchObject({
      status: 'error', batch: `${stream}/0@0-0`, error: 'function failed: Error: cannot take a batch',
    });
  });

  it('documents the per-call log route in the OpenAPI document', async () => {
    const doc = (await get(server, '/v2/openapi.json')).json<{ paths: Record<string, Record<string, { operationId?: string }>> }>();
    expect(doc.paths['/v2/fns/{fn_id}/calls/{call_id}/log']?.get?.operationId).toBe('getCallLog');
  });
});

describe('the FDK error body and the output ring (no containers)', () => {
  it('takes detail, else a message that is not the generic one, else plain text, and replaces control characters', () => {
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    expect(errorDetailOf(json({ message: 'Exception in function, consult logs for details', detail: 'TypeError: x' }))).toBe('TypeError: x');
    expect(errorDetailOf(json({ message: 'Exception in function, consult logs for details' }))).toBeUndefined();
    expect(errorDetailOf(json({ message: 'Timed out' }))).toBe('Timed out');
    expect(errorDetailOf(Buffer.from('plain words\u001b[31m'))).toBe('plain words?[31m');
    expect(errorDetailOf(Buffer.from('{"detail": "cut off'))).toBeUndefined();
    expect(errorDetailOf(Buffer.alloc(0))).toBeUndefined();
    const long = errorDetailOf(json({ detail: '€'.repeat(3000) })) ?? '';
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(4096);
    expect(long.endsWith('€…')).toBe(true);
  });

  it('reads at most 16 KiB of an error body, drains a longer one, and cuts a flood without waiting for its end', async () => {
    const small = await readErrorBody(Readable.from([Buffer.from('{"detail":'), Buffer.from('"x"}')]));
    expect({ head: small.head.toString(), complete: small.complete }).toEqual({ head: '{"detail":"x"}', complete: true });
    const long = await readErrorBody(Readable.from([Buffer.alloc(40 * 1024, 'a'), Buffer.alloc(40 * 1024, 'b')]));
    expect({ size: long.head.length, complete: long.complete }).toEqual({ size: 16 * 1024, complete: true });
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    const flood = await readErrorBody(endless);
    expect({ size: flood.head.length, complete: flood.complete, destroyed: endless.destroyed }).toEqual({ size: 16 * 1024, complete: false, destroyed: true });
    expect(produced).toBeLessThanOrEqual(512 * 1024);
  });

  it('says a call\'s output is complete only when nothing printed since it began was dropped', () => {
    const hub = new LogHub(16 * 1024);
    const line = (call: string, time: string, text = 'x') => ({ time, app_id: 'a', fn_id: 'f', container: 'c', call_id: call, line: text });
    const start = new Date(Date.now() + 1000).toISOString();
    hub.publish(line('c1', start));
    expect(hub.ofCall('f', 'c1', start)).toEqual({ lines: [line('c1', start)], complete: true });
    // Older than the hub: a restart lost whatever it printed.
    expect(hub.ofCall('f', 'c0', '2000-01-01T00:00:00.000Z').complete).toBe(false);
    const later = new Date(Date.now() + 2000).toISOString();
    for (let i = 0; i < 100; i++) hub.publish(line('c2', later, 'y'.repeat(200)));
    expect(hub.ofCall('f', 'c1', start)).toEqual({ lines: [], complete: false });
    const after = new Date(Date.now() + 3000).toISOString();
    expect(hub.ofCall('f', 'c3', after)).toEqual({ lines: [], complete: true });
  });
});
