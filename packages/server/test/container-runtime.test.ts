import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver, isRuntimeRefusal, type ContainerSpec } from '../src/agent/docker.js';
import { ContainerFixture, docker } from './support/fixtures.js';

/** The OCI runtime of function containers (FNTS_DOCKER_RUNTIME): on the real engine, then the driver's fallback. */

const FUNC = `
import { handle } from '@fnts/fdk';

handle(async () => ({ host: process.env.HOSTNAME }));
`;

describe('FNTS_DOCKER_RUNTIME on the real engine', () => {
  const fx = new ContainerFixture();
  let image: string;
  let engine: { DefaultRuntime: string; Runtimes: Record<string, unknown> };

  beforeAll(async () => {
    await fx.setup();
    image = await fx.image('runtime', FUNC);
    engine = (await docker.info()) as typeof engine;
  });
  afterAll(() => fx.teardown());

  async function runtimeOfNewContainer(env: Record<string, string>): Promise<string> {
    const server = await fx.server({ FNTS_STEM_CELLS: '0', FNTS_WARM_ON_DEPLOY: 'false', ...env });
    const { fnId } = await fx.deploy(server, { image });
    const res = await fx.invoke(server, fnId);
    expect(res.statusCode, res.body).toBe(200);
    const [container] = await fx.containers(fnId);
    expect(container?.Id.startsWith(res.json<{ host: string }>().host)).toBe(true);
    const info = await docker.getContainer(container?.Id as string).inspect();
    await server.close();
    return info.HostConfig.Runtime as string;
  }

  it('auto (the default) creates containers with crun when the engine has it registered, else with its default', async () => {
    // scripts/ensure-docker.sh registers crun with the dockerd it starts, so CI takes the first branch.
    const expected = 'crun' in engine.Runtimes ? 'crun' : engine.DefaultRuntime;
    expect(await runtimeOfNewContainer({})).toBe(expected);
  });

  it('default leaves the runtime to the engine', async () => {
    expect(await runtimeOfNewContainer({ FNTS_DOCKER_RUNTIME: 'default' })).toBe(engine.DefaultRuntime);
  });

  it('a runtime the engine does not have refuses the start, naming the ones it has', async () => {
    const refused = await fx.server({ FNTS_DOCKER_RUNTIME: 'no-such-runtime' }).catch((err: unknown) => err);
    expect(refused).toMatchObject({
      code: 'FNTS_ERR_START_DOCKER',
      message: expect.stringMatching(/FNTS_DOCKER_RUNTIME=no-such-runtime: .*no runtime named "no-such-runtime" .*runc/) as string,
      hint: expect.stringContaining('--add-runtime') as string,
    });
  });
});

/**
 * A small fake of the engine's API surface the driver uses (info, create, attach, start, remove): whether crun
 * refuses is a property of the host (a cgroup v1/v2 hybrid, say) that a test cannot switch on a real engine.
 */
class FakeEngine {
  readonly containers = new Map<string, { runtime: string | undefined; removed: boolean }>();
  private next = 0;
  /** Runtimes that refuse every container, as crun does on a hybrid cgroup host. */
  refusing = new Set<string>();
  /** Every runtime refuses: the image's fault (its entrypoint is missing, say). */
  imageBroken = false;

  info = () => Promise.resolve({ Runtimes: { runc: {}, crun: {} }, DefaultRuntime: 'runc' });

  createContainer = (options: Docker.ContainerCreateOptions) => {
    const id = `c${++this.next}`;
    this.containers.set(id, { runtime: options.HostConfig?.Runtime, removed: false });
    return Promise.resolve({ id });
  };

  getContainer = (id: string) => ({
    attach: () => Promise.resolve(new PassThrough()),
    start: () => {
      const runtime = this.containers.get(id)?.runtime ?? 'runc';
      if (this.imageBroken || this.refusing.has(runtime)) {
        const message = `failed to create task for container: OCI runtime create failed: ${runtime} refused`;
        return Promise.reject(Object.assign(new Error(`(HTTP code 500) server error - ${message}`), { statusCode: 500, json: { message } }));
      }
      return Promise.resolve();
    },
    remove: () => {
      const c = this.containers.get(id);
      if (c) c.removed = true;
      return Promise.resolve();
    },
  });

  modem = { demuxStream: () => undefined };

  runtimeOf(id: string): string | undefined {
    return this.containers.get(id)?.runtime;
  }
}

const SPEC: ContainerSpec = {
  name: 'fnts-x', image: 'img', env: {}, labels: {}, socketDir: '/nowhere', memoryMiB: 128, networkMode: 'none',
  pidsLimit: 50, syslogUrl: undefined, syslogTag: '',
};

function fakeDriver(): { engine: FakeEngine; driver: DockerDriver; fallbacks: string[] } {
  const engine = new FakeEngine();
  // The fake implements only what the driver calls; dockerode's full client type is far wider.
  const driver = new DockerDriver(engine as unknown as Docker);
  const fallbacks: string[] = [];
  driver.onRuntimeFallback = (runtime, reason) => fallbacks.push(`${runtime}: ${reason}`);
  return { engine, driver, fallbacks };
}

describe('the driver when the chosen runtime refuses a container', () => {
  it('re-creates it with the engine\'s default, and keeps to the default from then on', async () => {
    const { engine, driver, fallbacks } = fakeDriver();
    expect(await driver.chooseRuntime('auto')).toBe('crun');
    engine.refusing.add('crun');

    const first = await driver.start(SPEC);
    expect(first.id).not.toBe('c1');
    expect(engine.runtimeOf('c1')).toBe('crun');
    expect(engine.containers.get('c1')?.removed).toBe(true);
    expect(engine.runtimeOf(first.id)).toBeUndefined();
    expect(driver.runtimeName).toBe('default');
    expect(fallbacks).toEqual(['crun: failed to create task for container: OCI runtime create failed: crun refused']);

    const second = await driver.start(SPEC);
    expect(engine.runtimeOf(second.id)).toBeUndefined();
    expect(fallbacks).toHaveLength(1);
  });

  it('keeps crun when the default refuses the container too (the image is at fault), and fails the start', async () => {
    const { engine, driver, fallbacks } = fakeDriver();
    await driver.chooseRuntime('auto');
    engine.imageBroken = true;

    await expect(driver.start(SPEC)).rejects.toThrow(/OCI runtime create failed: runc refused/);
    expect([...engine.containers.values()].every((c) => c.removed)).toBe(true);
    expect(driver.runtimeName).toBe('crun');
    expect(fallbacks).toEqual([]);

    engine.imageBroken = false;
    expect(engine.runtimeOf((await driver.start(SPEC)).id)).toBe('crun');
  });

  it('never falls back from a runtime the operator named', async () => {
    const { engine, driver, fallbacks } = fakeDriver();
    expect(await driver.chooseRuntime('crun')).toBe('crun');
    engine.refusing.add('crun');
    await expect(driver.start(SPEC)).rejects.toThrow(/crun refused/);
    expect(engine.containers.size).toBe(1);
    expect(driver.runtimeName).toBe('crun');
    expect(fallbacks).toEqual([]);
  });

  it('tells a runtime refusal from other failures', () => {
    expect(isRuntimeRefusal({ statusCode: 500, json: { message: 'OCI runtime create failed: x' } })).toBe(true);
    expect(isRuntimeRefusal(new Error('OCI runtime start failed: y'))).toBe(true);
    expect(isRuntimeRefusal({ statusCode: 404, json: { message: 'No such image: img' } })).toBe(false);
    expect(isRuntimeRefusal(undefined)).toBe(false);
  });
});
