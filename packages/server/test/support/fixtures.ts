import type Docker from 'dockerode';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFunctionImage } from '../../../cli/dist/build/function-image.js';
import { dockerClient } from '../../../cli/dist/build/docker-build.js';
import type { FuncFile } from '../../../cli/dist/funcfile.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

export const TEST_LABEL = 'fnts.test';
export const docker: Docker = dockerClient(process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock');

/**
 * One test file's world of real containers: a run id on every image and container it makes, in-process servers
 * (inject, no port) it can open, and a cleanup that removes all of them.
 */
export class ContainerFixture {
  readonly run = randomBytes(6).toString('hex');
  work = '';
  private readonly opened: FastifyInstance[] = [];
  private apps = 0;

  async setup(): Promise<void> {
    this.work = await mkdtemp(join(tmpdir(), 'fnts-srv-'));
  }

  /** Builds a function image from TypeScript source with the CLI's real builder. */
  async image(name: string, source: string): Promise<string> {
    const dir = join(this.work, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'func.ts'), source);
    const func: FuncFile = { schema_version: 20180708, name: `fnts-srv-${name}-${this.run}`, version: '0.0.1', runtime: 'typescript' };
    return (await buildFunctionImage(docker, { dir, func, version: func.version, labels: { [TEST_LABEL]: this.run } })).image;
  }

  async server(env: Record<string, string> = {}): Promise<FastifyInstance> {
    const app = await buildApp({
      config: loadConfig({
        FNTS_DB: ':memory:',
        FNTS_LOG_LEVEL: 'silent',
        FNTS_CONTAINER_LABELS: `${TEST_LABEL}=${this.run}`,
        FNTS_IOFS_DIR: join(this.work, 'iofs'),
        ...env,
      }),
    });
    this.opened.push(app);
    return app;
  }

  /** Creates an app and a fn through the API. */
  async deploy(app: FastifyInstance, fn: Record<string, unknown> & { image: string }, appBody: Record<string, unknown> = {})
    : Promise<{ appId: string; fnId: string }> {
    const a = await app.inject({ method: 'POST', url: '/v2/apps', payload: { name: `app-${++this.apps}`, ...appBody } });
    if (a.statusCode !== 200) throw new Error(`create app: ${a.statusCode} ${a.body}`);
    const appId = a.json<{ id: string }>().id;
    const f = await app.inject({ method: 'POST', url: '/v2/fns', payload: { app_id: appId, name: 'fn', ...fn } });
    if (f.statusCode !== 200) throw new Error(`create fn: ${f.statusCode} ${f.body}`);
    return { appId, fnId: f.json<{ id: string }>().id };
  }

  invoke(app: FastifyInstance, fnId: string, input: unknown = {}, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return app.inject({ method: 'POST', url: `/invoke/${fnId}`, payload: JSON.stringify(input), headers });
  }

  /** The containers of one function (or of this whole run). */
  async containers(fnId?: string): Promise<Docker.ContainerInfo[]> {
    const label = [`${TEST_LABEL}=${this.run}`, ...(fnId ? [`fnts.fn=${fnId}`] : [])];
    return docker.listContainers({ all: true, filters: { label } });
  }

  async teardown(): Promise<void> {
    await Promise.all(this.opened.map((app) => app.close().catch(() => undefined)));
    for (const c of await this.containers()) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    const images = await docker.listImages({ filters: { label: [`${TEST_LABEL}=${this.run}`] } });
    for (const img of images) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }
}
