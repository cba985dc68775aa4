import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFilesOf } from '../src/agent/bundle-cache.js';
import { ContainerFixture, TEST_LABEL, docker } from './support/fixtures.js';

/** Stem cells: prewarmed base-image containers that a cold start of a typescript/node function claims. Real Docker. */

const FUNC = `
import { handle } from '@fnts/fdk';

handle(async (input: { print?: string }, ctx) => {
  if (input?.print) console.log(input.print);
  const stack = new Error('where').stack;
  return { host: process.env.HOSTNAME, config: ctx.config, fnName: ctx.fnName, memory: process.env.FN_MEMORY, stack };
});
`;

interface Answer {
  host: string;
  config: Record<string, string>;
  fnName: string;
  memory: string;
  stack: string;
}

const fx = new ContainerFixture();
let image: string;

function answer(res: LightMyRequestResponse): Answer {
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Answer>();
}

async function metricValue(app: FastifyInstance, name: string, match = ''): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name} `) || line.startsWith(`${name}{`)) && line.includes(match)) sum += Number(line.split(' ').pop());
  }
  return sum;
}

async function until(what: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await what()) return true;
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const stemContainers = () => docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${fx.run}`, 'fnts.stem=true'] } });

beforeAll(async () => {
  await fx.setup();
  image = await fx.image('stem', FUNC);
});
afterAll(() => fx.teardown());

describe('stem cells', () => {
  it('serves a new function\'s cold start from a prewarmed container, hardened as any, with the fn\'s memory, env and output', async () => {
    const server = await fx.server({ FNTS_STEM_CELLS: '1' });
    await server.ready();
    expect(await until(async () => (await metricValue(server, 'fnts_stem_cells_ready')) === 1)).toBe(true);
    const [stem] = await stemContainers();
    expect(stem).toBeDefined();

    const { fnId } = await fx.deploy(server, { image, memory: 192, config: { GREETING: 'hi' } });
    const first = answer(await fx.invoke(server, fnId, { print: 'from the stem cell' }));
    expect(stem?.Id.startsWith(first.host)).toBe(true);
    expect(first.config).toEqual({ GREETING: 'hi' });
    expect(first.fnName).toBe('fn');
    expect(first.memory).toBe('192');
    // Stack traces name the TypeScript source (the FDK maps them itself, on first use), as in a new container.
    expect(first.stack).toMatch(/func\.ts:6:\d+/);
    expect(await metricValue(server, 'fnts_stem_claims_total', 'outcome="claimed"')).toBe(1);
    // The next call is hot, on the same container.
    expect(answer(await fx.invoke(server, fnId)).host).toBe(first.host);

    const info = await docker.getContainer(stem?.Id as string).inspect();
    expect(info.HostConfig.Memory).toBe(192 * 1024 * 1024);
    expect(info.HostConfig.MemorySwap).toBe(192 * 1024 * 1024);
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(info.Config.User).toBe('1000:1000');

    // The function's output reaches its logs, tagged with its call.
    expect(await until(async () => {
      const logs = await server.inject({ method: 'GET', url: `/v2/fns/${fnId}/logs` });
      return logs.body.includes('from the stem cell');
    })).toBe(true);

    // A new stem cell takes the claimed one's place; the claimed one stays the function's.
    expect(await until(async () => (await metricValue(server, 'fnts_stem_cells_ready')) === 1)).toBe(true);
    const stems = await stemContainers();
    expect(stems).toHaveLength(2);

    await server.close();
    expect(await stemContainers()).toHaveLength(0);
  });

  it('starts a new container when no stem cell is ready, and when stem cells are off', async () => {
    const off = await fx.server({ FNTS_STEM_CELLS: '0' });
    const { fnId } = await fx.deploy(off, { image });
    const res = answer(await fx.invoke(off, fnId));
    const own = await fx.containers(fnId);
    expect(own).toHaveLength(1);
    expect(own[0]?.Id.startsWith(res.host)).toBe(true);
    expect(res.stack).toMatch(/func\.ts:6:\d+/);
    expect(await metricValue(off, 'fnts_stem_claims_total', 'outcome="claimed"')).toBe(0);
  });
});

describe('bundles read from a function image', () => {
  it('takes func.mjs and its map, and refuses an image with anything else in /function', () => {
    const entry = (name: string, body: string, type = '0') => {
      const header = Buffer.alloc(512);
      header.write(name, 0);
      header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
      header.write(type, 156);
      const data = Buffer.alloc(Math.ceil(body.length / 512) * 512);
      data.write(body);
      return Buffer.concat([header, data]);
    };
    const end = Buffer.alloc(1024);
    const files = bundleFilesOf(Buffer.concat([entry('function/', '', '5'), entry('function/func.mjs', 'code'), entry('function/func.mjs.map', '{}'), end]));
    expect(files?.map((f) => [f.name, f.data.toString()])).toEqual([['func.mjs', 'code'], ['func.mjs.map', '{}']]);
    expect(bundleFilesOf(Buffer.concat([entry('function/func.mjs', 'code'), entry('function/node_modules/', '', '5'), end]))).toBeUndefined();
    expect(bundleFilesOf(Buffer.concat([entry('function/func.mjs.map', '{}'), end]))).toBeUndefined();
  });
});
