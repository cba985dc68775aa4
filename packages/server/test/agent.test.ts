import type Docker from 'dockerode';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionImage } from '../../cli/dist/build/function-image.js';
import { dockerClient } from '../../cli/dist/build/docker-build.js';
import type { FuncFile } from '../../cli/dist/funcfile.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

/** Integration with the real Docker engine: real images, real containers, the server in-process via inject. */

const RUN = randomBytes(6).toString('hex');
const TEST_LABEL = 'fnts.test';
const docker = dockerClient(process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock');
const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

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
interface ErrorBody {
  message: string;
  code: string;
}

let work: string;
let behavingImage: string;
let silentImage: string;
let server: FastifyInstance;
const opened: FastifyInstance[] = [];
let appCounter = 0;

async function buildImage(name: string, source: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'func.ts'), source);
  const func: FuncFile = { schema_version: 20180708, name: `fnts-srv-${name}-${RUN}`, version: '0.0.1', runtime: 'typescript' };
  const built = await buildFunctionImage(docker, { dir, func, version: func.version, labels: { [TEST_LABEL]: RUN } });
  return built.image;
}

async function startServer(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildApp({
    config: loadConfig({
      FNTS_DB: ':memory:',
      FNTS_LOG_LEVEL: 'silent',
      FNTS_CONTAINER_LABELS: `${TEST_LABEL}=${RUN}`,
      FNTS_IOFS_DIR: join(work, 'iofs'),
      ...env,
    }),
  });
  opened.push(app);
  return app;
}

/** Creates an app and a fn through the API; returns the ids. */
async function deploy(
  app: FastifyInstance,
  fn: { image: string; timeout?: number; idle_timeout?: number; config?: Record<string, string> },
): Promise<{ appId: string; fnId: string; appName: string }> {
  const appName = `agent-${++appCounter}`;
  const a = await app.inject({ method: 'POST', url: '/v2/apps', payload: { name: appName } });
  expect(a.statusCode, a.body).toBe(200);
  const appId = a.json<{ id: string }>().id;
  const f = await app.inject({ method: 'POST', url: '/v2/fns', payload: { app_id: appId, name: 'fn', ...fn } });
  expect(f.statusCode, f.body).toBe(200);
  return { appId, fnId: f.json<{ id: string }>().id, appName };
}

function invoke(app: FastifyInstance, fnId: string, input: object = {}, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: `/invoke/${fnId}`, payload: input, headers });
}

function echo(res: LightMyRequestResponse): EchoBody {
  expect(res.statusCode, res.body).toBe(200);
  return res.json<EchoBody>();
}

function expectCallError(res: LightMyRequestResponse, status: number, code: string, message: string | RegExp): ErrorBody {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<ErrorBody>();
  expect(body.code).toBe(code);
  if (typeof message === 'string') expect(body.message).toBe(message);
  else expect(body.message).toMatch(message);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return body;
}

/** This run's containers for one fn (or all of them), as Docker reports them. */
function containers(fnId?: string): Promise<Docker.ContainerInfo[]> {
  const label = [`${TEST_LABEL}=${RUN}`, ...(fnId ? [`fnts.fn=${fnId}`] : [])];
  return docker.listContainers({ all: true, filters: { label } });
}

/** Polls Docker until the predicate holds or the time is up; returns the last listing either way. */
async function pollContainers(
  fnId: string,
  done: (list: Docker.ContainerInfo[]) => boolean,
  timeoutMs = 6000,
): Promise<Docker.ContainerInfo[]> {
  const until = Date.now() + timeoutMs;
  let list = await containers(fnId);
  while (!done(list) && Date.now() < until) {
    await sleep(100);
    list = await containers(fnId);
  }
  return list;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fnts-agent-'));
  [behavingImage, silentImage] = await Promise.all([buildImage('behaving', BEHAVING_FUNC), buildImage('silent', SILENT_FUNC)]);
  server = await startServer();
});

/** Removes this run's containers, then its function images (never the shared base image); retries while a removal is in flight. */
async function removeLeftovers(): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const left = await containers();
    for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    const images = (await docker.listImages({ filters: { label: [`${TEST_LABEL}=${RUN}`] } }))
      // Function images carry fnts.function; the base image they inherit other labels from does not.
      .filter((img) => img.Labels?.['fnts.function'] !== undefined);
    for (const img of images) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
    if (left.length === 0 && images.length === 0) return;
    await sleep(250);
  }
}

afterAll(async () => {
  for (const app of opened) await app.close().catch(() => undefined);
  await removeLeftovers();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('invoking functions in real containers', () => {
  it('answers a JSON call with the function\'s output and passes it the call id, the deadline and the client\'s headers', async () => {
    const { fnId, appId, appName } = await deploy(server, { image: behavingImage, config: { GREETING: 'hi' } });
    const before = Date.now();
    const res = await invoke(server, fnId, { name: 'Tom' }, { 'x-custom': 'abc', 'fn-call-id': 'spoofed', host: 'client.example.test' });
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
    const list = await containers(fnId);
    expect(list).toHaveLength(1);
    expect(list[0]?.Labels).toMatchObject({ 'fnts.fn': fnId, 'fnts.app': appId, [TEST_LABEL]: RUN });
  });

  it('streams a non-empty body to the function chunked, without the client\'s Content-Length (CONTRACT §2.1)', async () => {
    const { fnId } = await deploy(server, { image: behavingImage });
    const res = await invoke(server, fnId, { some: 'input' });
    const body = echo(res);
    expect(body.input).toEqual({ some: 'input' });
    expect(body.headers).not.toHaveProperty('content-length');
  });

  it('reuses the same hot container for the next call', async () => {
    const { fnId } = await deploy(server, { image: behavingImage });
    const first = echo(await invoke(server, fnId, { n: 1 }));
    const afterFirst = await containers(fnId);
    const second = echo(await invoke(server, fnId, { n: 2 }));
    const afterSecond = await containers(fnId);
    expect(second.input).toEqual({ n: 2 });
    expect(second.instance).toBe(first.instance);
    expect(afterFirst).toHaveLength(1);
    expect(afterSecond.map((c) => c.Id)).toEqual(afterFirst.map((c) => c.Id));
    expect(afterSecond[0]?.State).toBe('running');
  });

  it('answers 502 function failed when the function throws, keeps the container, and serves the next call', async () => {
    const { fnId } = await deploy(server, { image: behavingImage });
    const warm = echo(await invoke(server, fnId));
    const failed = await invoke(server, fnId, { action: 'throw' });
    const body = expectCallError(failed, 502, 'FNTS_ERR_CALL_FUNCTION_FAILED', 'function failed');
    // The FDK's own body is discarded (CONTRACT §2.2).
    expect(JSON.stringify(body)).not.toContain('boom');
    expect(failed.headers['fn-call-id']).toMatch(ID);
    const next = echo(await invoke(server, fnId, { after: 'throw' }));
    expect(next.input).toEqual({ after: 'throw' });
    expect(next.instance).toBe(warm.instance);
  });

  it('answers 504 Timed out when the function sleeps past its timeout, and the next call succeeds', async () => {
    const { fnId } = await deploy(server, { image: behavingImage, timeout: 1 });
    const res = await invoke(server, fnId, { action: 'sleep', ms: 4000 });
    expectCallError(res, 504, 'FNTS_ERR_CALL_TIMEOUT', 'Timed out');
    expect(echo(await invoke(server, fnId, { after: 'sleep' })).input).toEqual({ after: 'sleep' });
  });

  it('kills a container whose function blocks past its timeout and serves the next call from a fresh one', async () => {
    const { fnId } = await deploy(server, { image: behavingImage, timeout: 1 });
    const warm = echo(await invoke(server, fnId));
    const [old] = await containers(fnId);
    expectCallError(await invoke(server, fnId, { action: 'block', ms: 10_000 }), 504, 'FNTS_ERR_CALL_TIMEOUT', 'Timed out');
    const next = echo(await invoke(server, fnId, { after: 'block' }));
    expect(next.instance).not.toBe(warm.instance);
    const list = await pollContainers(fnId, (l) => !l.some((c) => c.Id === old?.Id));
    expect(list.map((c) => c.Id)).not.toContain(old?.Id);
    expect(list).toHaveLength(1);
  });

  it('answers 502 naming the exit when the function process exits mid-call, and the next call succeeds', async () => {
    const { fnId } = await deploy(server, { image: behavingImage });
    const warm = echo(await invoke(server, fnId));
    const res = await invoke(server, fnId, { action: 'exit' });
    expectCallError(res, 502, 'FNTS_ERR_CALL_RECEIVE_FAILED', /exit/i);
    expect(res.json<ErrorBody>().message).toMatch(/^error receiving function response/);
    const next = echo(await invoke(server, fnId, { after: 'exit' }));
    expect(next.instance).not.toBe(warm.instance);
    expect(await pollContainers(fnId, (l) => l.length === 1)).toHaveLength(1);
  });

  it('answers 404 FNTS_ERR_IMAGE_NOT_FOUND for an image the engine does not have', async () => {
    const image = `fnts-srv-missing-${RUN}:0.0.1`;
    const { fnId } = await deploy(server, { image });
    const res = await invoke(server, fnId);
    const body = expectCallError(res, 404, 'FNTS_ERR_IMAGE_NOT_FOUND', /no such image/);
    expect(body.message).toContain(image);
    expect(await containers(fnId)).toHaveLength(0);
  });

  it('answers 504 container initialization timed out when the process never creates the socket, and removes it', async () => {
    const quick = await startServer({ FNTS_HOT_START_TIMEOUT_MS: '1500' });
    const { fnId } = await deploy(quick, { image: silentImage });
    const res = await invoke(quick, fnId);
    expectCallError(
      res,
      504,
      'FNTS_ERR_CONTAINER_INIT_TIMEOUT',
      'Container initialization timed out, please ensure you are using the latest fdk and check the logs',
    );
    expect(await containers(fnId)).toHaveLength(0);
  });

  it('starts a new container with the new config after the fn or its app is updated', async () => {
    const { fnId, appId } = await deploy(server, { image: behavingImage, config: { GREETING: 'hello' } });
    const v1 = echo(await invoke(server, fnId));
    expect(v1.config).toEqual({ GREETING: 'hello' });

    const put = await server.inject({ method: 'PUT', url: `/v2/fns/${fnId}`, payload: { config: { GREETING: 'bonjour' } } });
    expect(put.statusCode, put.body).toBe(200);
    const v2 = echo(await invoke(server, fnId));
    expect(v2.config).toEqual({ GREETING: 'bonjour' });
    expect(v2.instance).not.toBe(v1.instance);

    const appPut = await server.inject({ method: 'PUT', url: `/v2/apps/${appId}`, payload: { config: { FROM_APP: 'yes' } } });
    expect(appPut.statusCode, appPut.body).toBe(200);
    const v3 = echo(await invoke(server, fnId));
    expect(v3.config).toEqual({ GREETING: 'bonjour', FROM_APP: 'yes' });
    expect(v3.instance).not.toBe(v2.instance);

    // The superseded versions' idle containers are removed.
    expect(await pollContainers(fnId, (l) => l.length === 1)).toHaveLength(1);
  });

  it('removes a container once it has been idle for the fn\'s idle_timeout', async () => {
    const { fnId } = await deploy(server, { image: behavingImage, idle_timeout: 1 });
    echo(await invoke(server, fnId));
    expect(await containers(fnId)).toHaveLength(1);
    expect(await pollContainers(fnId, (l) => l.length === 0)).toHaveLength(0);
    // The function still answers, from a new container.
    echo(await invoke(server, fnId));
  });

  it('removes every container it started when the server closes', async () => {
    const own = await startServer();
    const a = await deploy(own, { image: behavingImage });
    const b = await deploy(own, { image: behavingImage });
    await Promise.all([invoke(own, a.fnId).then(echo), invoke(own, b.fnId).then(echo)]);
    expect((await containers(a.fnId)).length + (await containers(b.fnId)).length).toBe(2);
    await own.close();
    expect(await containers(a.fnId)).toHaveLength(0);
    expect(await containers(b.fnId)).toHaveLength(0);
  });

  it('leaves no container behind when the server closes right after a call was killed for its timeout', async () => {
    const own = await startServer();
    const { fnId } = await deploy(own, { image: behavingImage, timeout: 1 });
    expectCallError(await invoke(own, fnId, { action: 'block', ms: 10_000 }), 504, 'FNTS_ERR_CALL_TIMEOUT', 'Timed out');
    // The killed container's removal may still be under way: close must wait for it too.
    await own.close();
    expect(await containers(fnId)).toHaveLength(0);
  });
});
