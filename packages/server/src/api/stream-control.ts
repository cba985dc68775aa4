import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { streamControlSchemas, type TriggerStatus } from '@fnts/api';
import { errors } from '../errors.js';
import { isKafkaSource } from '../streams/kafka/options.js';
import { storedStreamOptions } from '../streams/engine/options.js';
import type { StartPosition } from '../streams/engine/source.js';
import type { Trigger } from '../store/models.js';
import type { ApiDeps } from './deps.js';

/** Control of stream triggers (STREAMS.md §11, §14): status, pause, resume, seek, redrive. */
export function streamControlRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, streams } = deps;
  const load = async (id: string) => {
    const t = await store.getTriggerById(id);
    if (!t) throw errors.triggerNotFound();
    if (t.type !== 'stream') throw errors.validation('this is not a stream trigger');
    // Created through another server sharing the database a moment ago: this one catches up first.
    if (!streams.runner(t.id)) await streams.refresh();
    const runner = streams.runner(t.id);
    if (!runner) throw errors.streamTriggerNotRunning(t.source);
    return { t, runner };
  };
  const status = async (t: Trigger): Promise<TriggerStatus> => {
    const runner = streams.runner(t.id);
    const opts = runner?.options ?? storedStreamOptions(t);
    if (!opts) throw errors.validation('status, pause, resume, seek and redrive are for stream triggers only');
    return {
      trigger_id: t.id,
      name: t.name,
      fn_id: t.fn_id,
      source: { type: isKafkaSource(t.source) ? 'kafka' : 'embedded', stream: t.source, ...(runner?.source.describe?.() ?? {}) },
      paused: opts.paused,
      dead_letter_stream: opts.dead_letter_stream,
      // The runner's type allows an undefined in_flight that it never reports; the API says null.
      partitions: runner ? (await runner.status()).map((p) => ({ ...p, in_flight: p.in_flight ?? null })) : [],
    };
  };
  const setPaused = async (t: Trigger, paused: boolean) => {
    const options = { ...(t.options ?? {}), paused };
    const saved = await store.updateTrigger({ ...t, options, updated_at: deps.now() });
    await streams.runner(t.id)?.setPaused(paused);
    await streams.sync();
    return saved;
  };

  return async (api) => {
    api.get('/v2/triggers/:trigger_id/status', { schema: streamControlSchemas.status }, async (req) => {
      const { t } = await load(req.params.trigger_id);
      return status(t);
    });

    api.post('/v2/triggers/:trigger_id/pause', { schema: streamControlSchemas.pause }, async (req) => {
      const { t } = await load(req.params.trigger_id);
      return status(await setPaused(t, true));
    });

    api.post('/v2/triggers/:trigger_id/resume', { schema: streamControlSchemas.resume }, async (req) => {
      const { t } = await load(req.params.trigger_id);
      return status(await setPaused(t, false));
    });

    api.post('/v2/triggers/:trigger_id/seek', { schema: streamControlSchemas.seek }, async (req) => {
      const { t, runner } = await load(req.params.trigger_id);
      if (!runner.options.paused) throw errors.conflict('pause the trigger before seeking (fnts trigger pause), then resume it');
      await runner.seek(req.body.position as StartPosition, req.body.partition);
      return status(t);
    });

    api.post('/v2/triggers/:trigger_id/redrive', { schema: streamControlSchemas.redrive }, async (req) => {
      const { runner } = await load(req.params.trigger_id);
      return runner.redrive();
    });
  };
}
