import Docker from 'dockerode';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTestServer, createOn, type Json } from './api.js';
import { buildTypeScriptImage } from './function-images.js';

export const TEST_LABEL = 'fnts.test';
export const docker = new Docker({ socketPath: process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock' });

/** What `deploy` made: the ids, and the app's name (which the container sees as FN_APP_NAME). */
export interface Deployed {
  appId: string;
  appName: string;
  fnId: string;
}

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
    return buildTypeScriptImage(docker, {
      dir: join(this.work, name),
      name: `fnts-srv-${name}-${this.run}`,
      source,
      labels: { [TEST_LABEL]: this.run },
    });
  }

  /** A server whose containers carry this run's label and whose sockets live in this run's work dir; closed by teardown. */
  async server(env: Record<string, string> = {}): Promise<FastifyInstance> {
    const app = await buildTestServer({
      FNTS_CONTAINER_LABELS: `${TEST_LABEL}=${this.run}`,
      FNTS_IOFS_DIR: join(this.work, 'iofs'),
      ...env,
    });
    this.opened.push(app);
    return app;
  }

  /** Creates an app (named `app-<n>`, unique in this run) and a fn named `fn` in it through the API. */
  async deploy(app: FastifyInstance, fn: Json & { image: string }, appBody: Json = {}): Promise<Deployed> {
    const appName = `app-${++this.apps}`;
    const appId = (await createOn<{ id: string }>(app, '/v2/apps', { name: appName, ...appBody })).id;
    const fnId = (await createOn<{ id: string }>(app, '/v2/fns', { app_id: appId, name: 'fn', ...fn })).id;
    return { appId, appName, fnId };
  }

  /** Invokes a fn with `input` as a JSON body. */
  invoke(app: FastifyInstance, fnId: string, input: unknown = {}, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return app.inject({
      method: 'POST',
      url: `/invoke/${fnId}`,
      payload: JSON.stringify(input),
      headers: { 'content-type': 'application/json', ...headers },
    });
  }

  /** The containers of one function (or of this whole run). */
  async containers(fnId?: string): Promise<Docker.ContainerInfo[]> {
    const label = [`${TEST_LABEL}=${this.run}`, ...(fnId ? [`fnts.fn=${fnId}`] : [])];
    return docker.listContainers({ all: true, filters: { label } });
  }

  /** Polls Docker until `done` holds for a function's containers or the time is up; returns the last listing either way. */
  async waitForContainers(
    fnId: string,
    done: (list: Docker.ContainerInfo[]) => boolean,
    timeoutMs = 6000,
  ): Promise<Docker.ContainerInfo[]> {
    const until = Date.now() + timeoutMs;
    let list = await this.containers(fnId);
    while (!done(list) && Date.now() < until) {
      await sleep(100);
      list = await this.containers(fnId);
    }
    return list;
  }

  /**
   * Closes the servers, then removes this run's containers and function images (never the shared base image),
   * retrying while a removal is still under way; last, the work dir.
   */
  async teardown(): Promise<void> {
    await Promise.all(this.opened.map((app) => app.close().catch(() => undefined)));
    for (let attempt = 0; attempt < 20; attempt++) {
      const left = await this.containers();
      for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      const images = (await docker.listImages({ filters: { label: [`${TEST_LABEL}=${this.run}`] } }))
        // Function images carry fnts.function; the base image they inherit other labels from does not.
        .filter((img) => img.Labels?.['fnts.function'] !== undefined);
      // noprune: the untagged layer every function build shares through the build cache stays, so a build running
      // in parallel never loses its parent ("unknown parent image ID").
      for (const img of images) await docker.getImage(img.Id).remove({ force: true, noprune: true }).catch(() => undefined);
      if (left.length === 0 && images.length === 0) break;
      await sleep(250);
    }
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }
}
