import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ID } from './support/api.js';
import { ContainerFixture } from './support/fixtures.js';

/**
 * The call path as a client meets it over a real socket: `/invoke/{id}` and `/t/{app}/...` are served before
 * fastify's router (api/call-endpoint.ts), so these requests go through node's own request and response, while the
 * other tests' `inject` reaches the same code through fastify's routes. Real containers, the server in-process.
 */

const FUNC = `
import { handle } from '@fnts/fdk';
handle(async (input: { status?: number } | string, ctx) => {
  const gw = ctx.httpGateway;
  if (typeof input === 'object' && input?.status) gw.statusCode = input.status;
  gw.setResponseHeader('X-Seen-Method', gw.method);
  gw.setResponseHeader('X-Seen-Url', gw.requestURL);
  return { input, auth: gw.headers['Authorization'] ?? null };
});
`;

const ADMIN = 'admin-key-0123456789abcdef';
const INVOKE = 'invoke-key-0123456789abcdef';
const METRICS = 'metrics-key-0123456789abcdef';

const fx = new ContainerFixture();
let image: string;
let server: FastifyInstance;
let base: string;

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

async function send(url: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await request(`${url}${path}`, {
    method: method as 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

beforeAll(async () => {
  await fx.setup();
  image = await fx.image('call-endpoint', FUNC);
  server = await fx.server({ FNTS_API_KEYS: `${ADMIN},${INVOKE}:invoke,${METRICS}:metrics`, FNTS_MAX_REQUEST_BYTES: '1024' });
  base = await listen(server);
});
afterAll(() => fx.teardown());

const admin = { authorization: `Bearer ${ADMIN}` };
const invokeKey = { authorization: `Bearer ${INVOKE}` };

/** Creates an app and its fn through the API, with the admin key. */
async function deploy(name: string): Promise<{ appId: string; fnId: string }> {
  const appId = (await send(base, 'POST', '/v2/apps', JSON.stringify({ name }), admin)).json().id as string;
  const fnId = (await send(base, 'POST', '/v2/fns', JSON.stringify({ app_id: appId, name: 'fn', image }), admin)).json().id as string;
  return { appId, fnId };
}

describe('the call path on the raw server', () => {
  it('runs /invoke with the function\'s answer, the call id, the key kept from the function, and records the call', async () => {
    const { fnId } = await deploy('raw-invoke');
    const res = await send(base, 'POST', `/invoke/${fnId}`, '{"n":1}', invokeKey);
    expect(res.status, res.text).toBe(200);
    expect(res.json()).toEqual({ input: { n: 1 }, auth: null });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
    const callId = res.headers['fn-call-id'] as string;
    expect(callId).toMatch(ID);
    const record = await send(base, 'GET', `/v2/fns/${fnId}/calls/${callId}`, undefined, admin);
    expect(record.status, record.text).toBe(200);
    expect(record.json()).toMatchObject({ id: callId, status: 'success', type: 'sync' });
    const metrics = await send(base, 'GET', '/metrics', undefined, { authorization: `Bearer ${METRICS}` });
    expect(metrics.text).toContain(`fnts_calls_total{fn_id="${fnId}",app_name="raw-invoke",fn_name="fn",outcome="success"} 1`);

    const detached = await send(base, 'POST', `/invoke/${fnId}`, '{}', { ...invokeKey, 'fn-invoke-type': 'detached' });
    expect(detached.status).toBe(202);
    expect(detached.headers['fn-call-id']).toMatch(ID);
    expect(detached.text).toBe('');
  });

  it('answers the API\'s errors: keys, unknown fns, a body over the limit, and leaves other spellings to the router', async () => {
    const { fnId } = await deploy('raw-errors');
    const missing = await send(base, 'POST', `/invoke/${fnId}`, '{}');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="fnts"');
    expect(missing.json().code).toBe('FNTS_ERR_AUTH_MISSING');
    expect((await send(base, 'POST', `/invoke/${fnId}`, '{}', { authorization: `Bearer ${METRICS}` })).status).toBe(403);

    const unknown = await send(base, 'POST', '/invoke/01ABCDEFGHJKMNPQRSTVWXYZ00', '{}', invokeKey);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ message: 'Fn not found', code: 'FNTS_ERR_FN_NOT_FOUND' });
    expect(unknown.headers['content-type']).toBe('application/json; charset=utf-8');

    const tooBig = await send(base, 'POST', `/invoke/${fnId}`, 'x'.repeat(2048), invokeKey);
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.connection).toBe('close');
    expect(tooBig.json().call_id).toBe(tooBig.headers['fn-call-id']);

    // The router's answers for what the call path does not take: a wrong method, a longer path, an encoded id.
    expect((await send(base, 'GET', `/invoke/${fnId}`, undefined, admin)).status).toBe(405);
    expect((await send(base, 'POST', `/invoke/${fnId}/x`, '{}', admin)).json().message).toMatch(/^Path not found/);
    // A percent-encoded id or app name goes through the router, which decodes it, to the same code.
    const encodedId = `%${fnId.charCodeAt(0).toString(16)}${fnId.slice(1)}`;
    const encoded = await send(base, 'POST', `/invoke/${encodedId}`, '{}', invokeKey);
    expect(encoded.status, encoded.text).toBe(200);
  });

  it('routes HTTP triggers, with a key only where the trigger asks, and sees a changed route at once', async () => {
    const { appId, fnId } = await deploy('raw-trigger');
    const trig = (await send(base, 'POST', '/v2/triggers',
      JSON.stringify({ app_id: appId, fn_id: fnId, name: 'open', type: 'http', source: '/open' }), admin)).json();
    expect(trig.id).toMatch(ID);
    const open = await send(base, 'PUT', '/t/raw-trigger/open?q=1', '{"status":201}', { authorization: 'Bearer for-the-function' });
    expect(open.status, open.text).toBe(201);
    expect(open.headers['x-seen-method']).toBe('PUT');
    expect(open.headers['x-seen-url']).toBe(`${base}/t/raw-trigger/open?q=1`);
    expect(open.json().auth).toEqual(['Bearer for-the-function']);

    await send(base, 'PUT', `/v2/triggers/${trig.id}`, JSON.stringify({ annotations: { 'fnts.io/auth': 'required' } }), admin);
    expect((await send(base, 'POST', '/t/raw-trigger/open', '{}')).status).toBe(401);
    const keyed = await send(base, 'POST', '/t/raw-trigger/open', '{}', invokeKey);
    expect(keyed.status).toBe(200);
    expect(keyed.json().auth).toBe(null);

    await send(base, 'PUT', `/v2/triggers/${trig.id}`, JSON.stringify({ source: '/moved' }), admin);
    const gone = await send(base, 'POST', '/t/raw-trigger/open', '{}', invokeKey);
    expect(gone.json()).toEqual({ message: 'Trigger not found', code: 'FNTS_ERR_TRIGGER_NOT_FOUND' });
    expect((await send(base, 'POST', '/t/raw-trigger/moved', '{}', invokeKey)).status).toBe(200);
    expect((await send(base, 'POST', '/t/raw%2Dtrigger/moved', '{}', invokeKey)).status).toBe(200);
    expect((await send(base, 'GET', '/t/no-such-app/x')).json().code).toBe('FNTS_ERR_APP_NOT_FOUND');

    await send(base, 'DELETE', `/v2/fns/${fnId}`, undefined, admin);
    expect((await send(base, 'POST', `/invoke/${fnId}`, '{}', invokeKey)).status).toBe(404);
  });
});
