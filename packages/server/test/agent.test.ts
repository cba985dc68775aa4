import { Readable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ID, expectError, type ErrorJson } from './support/api.js';
import { ContainerFixture, TEST_LABEL } from './support/fixtures.js';

/** Integration with the real Docker engine: real images, real containers, the server in-process via inject. */

/** One function that does whatever its input asks, so a single image serves most tests. */
const BEHAVING_FUNC = `
import { randomUUID } from 'node:crypto';
import { handle } from '@fnts/fdk';

// Differs per container, so tests can tell a reused container from a fresh one.
const instance = randomUUID();

interface Input { action?: string; ms?: number }

handle(async (input: Input, ctx) => {
  const action = typeof input === 'object' && input !== null ? input.action ?? 'echo' : 'echo';
  const ms = typeof input === 'object' && input !== null ? input.ms ?? 0 : 0;
  if (action === 'throw') throw new Error('boom from the test function');
  if (action === 'exit') process.exit(1);
  if (action === 'sleep') await new Promise((resolve) => setTimeout(resolve, ms));
  // Blocks the event loop: the FDK cannot answer, so only the server's deadline ends the call.
  if (action === 'block') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const headers = Object.fromEntries(Object.entries(ctx.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { instance, input, headers, config: ctx.config, fnName: ctx.fnName, appName: ctx.appName };
});
`;

/** A process that never publishes a socket. */
const SILENT_FUNC = `setInterval(() => {}, 1000);\n`;

interface EchoBody {
  instance: string;
  input: unknown;
  headers: Record<string, string[]>;
  config: Record<string, string>;
  fnName?: string;
  appName?: string;
}

const fx = new ContainerFixture();
let behavingImage: string;
let silentImage: string;
let server: FastifyInstance;

function echo(res: LightMyRequestResponse): EchoBody {
  expect(res.statusCode, res.body).toBe(200);
  return res.json<EchoBody>();
}

beforeAll(async () => {
  await fx.setup();
  [behavingImage, silentImage] = await Promise.all([fx.image('behaving', BEHAVING_FUNC), fx.image('silent', SILENT_FUNC)]);
  server = await fx.server();
});
afterAll(() => fx.teardown());

describe('invoking functions in real containers', () => {
  it('answers a JSON call with the function\'s output and passes it the call id, the deadline and the client\'s headers', async () => {
    const { fnId, appId, appName } = await fx.deploy(server, { image: behavingImage, config: { GREETING: 'hi' } });
    const before = Date.now();
    const res = await fx.invoke(server, fnId, { name: 'Tom' }, { 'x-custom': 'abc', 'fn-call-id': 'spoofed', host: 'client.example.test' });
    const after = Date.now();
    const body = echo(res);
    expect(res.headers['content-type']).toMatch(/^application\/json/);

    const callId = res.headers['fn-call-id'];
    expect(callId).toMatch(ID);
    expect(body.input).toEqual({ name: 'Tom' });
    // The server's call id overwrites any client value (CONTRACT §2.1).
    expect(body.headers['fn-call-id']).toEqual([callId]);
    expect(body.headers['x-custom']).toEqual(['abc']);
    expect(body.headers['content-type']).toEqual(['application/json']);
    // The client's Host is not forwarded; the request to the socket carries `Host: localhost` (CONTRACT §2.1).
    expect(body.headers.host).toEqual(['localhost']);

    const deadline = body.headers['fn-deadline']?.[0] ?? '';
    expect(deadline).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    // exec start + the default 30 s timeout; second precision may make it up to 1 s earlier.
    expect(Date.parse(deadline)).toBeGreaterThanOrEqual(before + 29_000);
    expect(Date.parse(deadline)).toBeLessThanOrEqual(after + 30_000);

    expect(body.config).toEqual({ GREETING: 'hi' });
    expect([body.fnName, body.appName]).toEqual(['fn', appName]);
    const list = await fx.containers(fnId);
    expect(list).toHaveLength(1);
    expect(list[0]?.Labels).toMatchObject({ 'fnts.fn': fnId, 'fnts.app': appId, [TEST_LABEL]: fx.run });
  });

  it('sends a sized body whole with its length, and streams a long unsized one chunked (CONTRACT §2.1)', async () => {
    const { fnId } = await fx.deploy(server, { image: behavingImage });
    // A body with a declared length is read before a container is taken, then goes in one write with its length.
    const small = echo(await fx.invoke(server, fnId, { some: 'input' }));
    expect(small.input).toEqual({ some: 'input' });
    expect(small.headers['content-length']).toEqual([String(JSON.stringify({ some: 'input' }).length)]);
    const big = { pad: 'x'.repeat(100 * 1024) };
    const sized = echo(await fx.invoke(server, fnId, big));
    expect(sized.input).toEqual(big);
    expect(sized.headers['content-length']).toEqual([String(JSON.stringify(big).length)]);
    // An unsized (chunked) body past the threshold streams through as it arrives, chunked (the FDK hides hop-by-hop
    // headers, so no Content-Length is the sign of it).
    const long = { pad: 'y'.repeat(1536 * 1024) };
    const streamed = await server.inject({
      method: 'POST', url: `/invoke/${fnId}`, payload: Readable.from([Buffer.from(JSON.stringify(long))]),
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    const out = echo(streamed);
    expect(out.input).toEqual(long);
    expect(out.headers).not.toHaveProperty('content-length');
  });

  it('reuses the same hot container for the next call', async () => {
    const { fnId } = await fx.deploy(server, { image: behavingImage });
    const first = echo(await fx.invoke(server, fnId, { n: 1 }));
    const afterFirst = await fx.containers(fnId);
    const second = echo(await fx.invoke(server, fnId, { n: 2 }));
    const afterSecond = await fx.containers(fnId);
    expect(second.input).toEqual({ n: 2 });
    expect(second.instance).toBe(first.instance);
    expect(afterFirst).toHaveLength(1);
    expect(afterSecond.map((c) => c.Id)).toEqual(afterFirst.map((c) => c.Id));
    expect(afterSecond[0]?.State).toBe('running');
  });

  it('answers 502 function failed when the function throws, keeps the container, and serves the next call', async () => {
    const { fnId } = await fx.deploy(server, { image: behavingImage });
    const warm = echo(await fx.invoke(server, fnId));
    const failed = await fx.invoke(server, fnId, { action: 'throw' });
    const body = expectError(failed, 502, 'function failed', 'FNTS_ERR_CALL_FUNCTION_FAILED');
    // Fn discards the FDK's body (CONTRACT §2.2); fnts keeps the function's own message from it, and names the call.
    expect(failed.headers['fn-call-id']).toMatch(ID);
    expect(body).toMatchObject({ detail: 'Error: boom from the test function', call_id: failed.headers['fn-call-id'] });
    const next = echo(await fx.invoke(server, fnId, { after: 'throw' }));
    expect(next.input).toEqual({ after: 'throw' });
    expect(next.instance).toBe(warm.instance);
  });

  it('answers 504 Timed out when the function sleeps past its timeout, and the next call succeeds', async () => {
    const { fnId } = await fx.deploy(server, { image: behavingImage, timeout: 1 });
    const res = await fx.invoke(server, fnId, { action: 'sleep', ms: 4000 });
    expectError(res, 504, 'Timed out', 'FNTS_ERR_CALL_TIMEOUT');
    expect(echo(await fx.invoke(server, fnId, { after: 'sleep' })).input).toEqual({ after: 'sleep' });
  });

  it('kills a container whose function blocks past its timeout and serves the next call from a fresh one', async () => {
    const { fnId } = await fx.deploy(server, { image: behavingImage, timeout: 1 });
    const warm = echo(await fx.invoke(server, fnId));
    const [old] = await fx.containers(fnId);
    expectError(await fx.invoke(server, fnId, { action: 'block', ms: 10_000 }), 504, 'Timed out', 'FNTS_ERR_CALL_TIMEOUT');
    const next = echo(await fx.invoke(server, fnId, { after: 'block' }));
    expect(next.instance).not.toBe(warm.instance);
    const list = await fx.waitForContainers(fnId, (l) => !l.some((c) => c.Id === old?.Id));
    expect(list.map((c) => c.Id)).not.toContain(old?.Id);
    expect(list).toHaveLength(1);
  });

  it('answers 502 naming the exit when the function process exits mid-call, and the next call succeeds', async () => {
    const { fnId } = await fx.deploy(server, { image: behavingImage });
    const warm = echo(await fx.invoke(server, fnId));
    const res = await fx.invoke(server, fnId, { action: 'exit' });
    expectError(res, 502, /exit/i, 'FNTS_ERR_CALL_RECEIVE_FAILED');
    expect(res.json<ErrorJson>().message).toMatch(/^error receiving function response/);
    const next = echo(await fx.invoke(server, fnId, { after: 'exit' }));
    expect(next.instance).not.toBe(warm.instance);
    expect(await fx.waitForContainers(fnId, (l) => l.length === 1)).toHaveLength(1);
  });

  it('answers 404 FNTS_ERR_IMAGE_NOT_FOUND for an image the engine does not have', async () => {
    const image = `fnts-srv-missing-${fx.run}:0.0.1`;
    const { fnId } = await fx.deploy(server, { image });
    const res = await fx.invoke(server, fnId);
    const body = expectError(res, 404, /no such image/, 'FNTS_ERR_IMAGE_NOT_FOUND');
    expect(body.message).toContain(image);
    expect(await fx.containers(fnId)).toHaveLength(0);
  });

  it('answers 504 container initialization timed out when the process never creates the socket, and removes it', async () => {
    const quick = await fx.server({ FNTS_HOT_START_TIMEOUT_MS: '1500' });
    const { fnId } = await fx.deploy(quick, { image: silentImage });
    const res = await fx.invoke(quick, fnId);
    expectError(
      res,
      504,
      'Container initialization timed out, please ensure you are using the latest fdk and check the logs',
      'FNTS_ERR_CONTAINER_INIT_TIMEOUT',
    );
    expect(await fx.containers(fnId)).toHaveLength(0);
  });

  it('starts a new container with the new config after the fn or its app is updated', async () => {
    const { fnId, appId } = await fx.deploy(server, { image: behavingImage, config: { GREETING: 'hello' } });
    const v1 = echo(await fx.invoke(server, fnId));
    expect(v1.config).toEqual({ GREETING: 'hello' });

    const put = await server.inject({ method: 'PUT', url: `/v2/fns/${fnId}`, payload: { config: { GREETING: 'bonjour' } } });
    expect(put.statusCode, put.body).toBe(200);
    const v2 = echo(await fx.invoke(server, fnId));
    expect(v2.config).toEqual({ GREETING: 'bonjour' });
    expect(v2.instance).not.toBe(v1.instance);

    const appPut = await server.inject({ method: 'PUT', url: `/v2/apps/${appId}`, payload: { config: { FROM_APP: 'yes' } } });
    expect(appPut.statusCode, appPut.body).toBe(200);
    const v3 = echo(await fx.invoke(server, fnId));
    expect(v3.config).toEqual({ GREETING: 'bonjour', FROM_APP: 'yes' });
    expect(v3.instance).not.toBe(v2.instance);

    // The superseded versions' idle containers are removed.
    expect(await fx.waitForContainers(fnId, (l) => l.length === 1)).toHaveLength(1);
  });

  it('removes a container once it has been idle for the fn\'s idle_timeout', async () => {
    const { fnId } = await fx.deploy(server, { image: behavingImage, idle_timeout: 1 });
    echo(await fx.invoke(server, fnId));
    expect(await fx.containers(fnId)).toHaveLength(1);
    expect(await fx.waitForContainers(fnId, (l) => l.length === 0)).toHaveLength(0);
    // The function still answers, from a new container.
    echo(await fx.invoke(server, fnId));
  });

  it('removes every container it started when the server closes', async () => {
    const own = await fx.server();
    const a = await fx.deploy(own, { image: behavingImage });
    const b = await fx.deploy(own, { image: behavingImage });
    await Promise.all([fx.invoke(own, a.fnId).then(echo), fx.invoke(own, b.fnId).then(echo)]);
    expect((await fx.containers(a.fnId)).length + (await fx.containers(b.fnId)).length).toBe(2);
    await own.close();
    expect(await fx.containers(a.fnId)).toHaveLength(0);
    expect(await fx.containers(b.fnId)).toHaveLength(0);
  });

  it('leaves no container behind when the server closes right after a call was killed for its timeout', async () => {
    const own = await fx.server();
    const { fnId } = await fx.deploy(own, { image: behavingImage, timeout: 1 });
    expectError(await fx.invoke(own, fnId, { action: 'block', ms: 10_000 }), 504, 'Timed out', 'FNTS_ERR_CALL_TIMEOUT');
    // The killed container's removal may still be under way: close must wait for it too.
    await own.close();
    expect(await fx.containers(fnId)).toHaveLength(0);
  });
});
