import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callSchemas } from '@fnts/api';
import type { ServerResponse } from 'node:http';
import type { LogLine } from '../agent/log-hub.js';
import { errors } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { ApiDeps } from './deps.js';
import { documentedAs } from './openapi.js';

/** What may wait unsent for one log follower. */
const FOLLOW_BUFFER_BYTES = 1024 * 1024;

/** `/metrics` (Prometheus) and `GET /v2/fns/{fn_id}/logs` (the function's output as NDJSON, optionally followed). */
export function observeRoutes(deps: ApiDeps, metrics: Metrics): FastifyPluginAsyncTypebox {
  const { store, agent } = deps;
  return async (api) => {
    const followers = new Set<ServerResponse>();
    // A followed log never ends by itself: end them so shutdown does not wait for them.
    api.addHook('preClose', async () => {
      for (const res of followers) res.end();
    });

    api.get('/metrics', { config: documentedAs(callSchemas.metrics) }, async (_req, reply) => {
      const states = agent.containerStates();
      for (const [state, n] of Object.entries(states)) metrics.containers.set({ state }, n);
      // Made afresh at each scrape: a function whose containers are all gone has no series left.
      metrics.fnContainers.reset();
      metrics.queueLength.reset();
      for (const { labels, states: fnStates, queued } of agent.containerStatesByFn()) {
        for (const [state, n] of Object.entries(fnStates)) metrics.fnContainers.set({ ...labels, state }, n);
        metrics.queueLength.set(labels, queued);
      }
      metrics.memoryReserved.set(agent.budget.usedMiB);
      metrics.memoryBudget.set(agent.budget.totalMiB);
      await deps.streams.refreshMetrics();
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });

    const logs = callSchemas.logs;
    api.get('/v2/fns/:fn_id/logs', {
      schema: { params: logs.params, querystring: logs.querystring },
      config: documentedAs(logs),
    }, async (req, reply) => {
      const fn = await store.getFnById(req.params.fn_id);
      if (!fn) throw errors.fnNotFound();
      const tail = Math.min(Number(req.query.tail ?? 100), 1000);
      const follow = req.query.follow === 'true' || req.query.follow === '1';
      const lines = agent.logs.tail(fn.id, tail).map((l) => `${JSON.stringify(l)}\n`);
      if (!follow) return reply.type('application/x-ndjson').send(lines.join(''));
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
      for (const l of lines) res.write(l);
      // A follower that reads slower than the function prints misses lines rather than growing the server's memory.
      const stop = agent.logs.follow(fn.id, (l: LogLine) => {
        if (res.writableLength < FOLLOW_BUFFER_BYTES) res.write(`${JSON.stringify(l)}\n`);
      });
      // Keeps proxies and clients from timing out an idle follow.
      const ping = setInterval(() => res.write('\n'), 15_000);
      followers.add(res);
      res.on('close', () => {
        clearInterval(ping);
        stop();
        followers.delete(res);
      });
      return reply;
    });
  };
}
