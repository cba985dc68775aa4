import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { triggerSchemas } from '@fnts/api';
import { errors } from '../errors.js';
import { UniqueViolation, type Datastore } from '../store/datastore.js';
import type { Trigger } from '../store/models.js';
import { useResourceBodyRules } from './body-rules.js';
import type { ApiDeps } from './deps.js';
import { listBody, listOptions } from './pagination.js';
import { baseUrl, renderTrigger } from './render.js';
import { storedStreamOptions } from '../streams/engine/options.js';
import { checkStreamSource, checkTriggerName, checkTriggerSource, mergeAnnotations, TRIGGER_TYPES } from './validate.js';

/** Maps the store's unique violations to Fn's two trigger conflicts. */
function conflict(err: unknown): never {
  if (err instanceof UniqueViolation) {
    throw errors.conflict(err.field === 'source' ? 'Trigger with the same type and source exists on this app' : 'Trigger already exists');
  }
  throw err;
}

/** Rejects a source already used by another trigger of the same type in the app (Fn skips this on PUT; fnts does not). */
async function checkSourceFree(store: Datastore, t: Trigger): Promise<void> {
  if (t.type !== 'http') return; // a stream may feed several functions; the store keeps one trigger per function
  const other = await store.getTriggerBySource(t.app_id, t.type, t.source);
  if (other && other.id !== t.id) throw errors.conflict('Trigger with the same type and source exists on this app');
}

/** Triggers: `/v2/triggers` (CONTRACT §4.1). */
export function triggerRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, config } = deps;
  const load = async (id: string): Promise<Trigger> =>
    (await store.getTriggerById(id)) ?? Promise.reject(errors.triggerNotFound());
  const appName = async (appId: string) => (await store.getAppById(appId))?.name;

  return async (api) => {
    useResourceBodyRules(api);
    api.get('/v2/triggers', { schema: triggerSchemas.list }, async (req) => {
      const { app_id: appId, fn_id: fnId } = req.query;
      if (!appId) throw errors.validation('Missing App ID on Trigger');
      const app = await store.getAppById(appId);
      if (!app) throw errors.appNotFound();
      const page = await store.listTriggers(appId, { ...listOptions(req.query), ...(fnId ? { fnId } : {}) });
      const base = baseUrl(req, config.publicUrl);
      return listBody(page, (t) => renderTrigger(t, base, app.name));
    });

    api.post('/v2/triggers', { schema: triggerSchemas.create }, async (req) => {
      const body = req.body;
      if (body.id) throw errors.validation('ID cannot be provided for Trigger creation');
      if (body.created_at) throw errors.validation('Trigger Created At Provided for Create');
      if (body.updated_at) throw errors.validation('Trigger ID Provided for Create');
      if (!body.app_id) throw errors.validation('Missing App ID on Trigger');
      const name = checkTriggerName(body.name);
      if (!body.fn_id) throw errors.validation('Missing Fn ID on Trigger');
      if (!body.type || !TRIGGER_TYPES.includes(body.type)) throw errors.validation('Trigger Type Not Supported');
      const isStream = body.type === 'stream';
      const source = isStream ? checkStreamSource(body.source) : checkTriggerSource(body.source);
      if (!isStream && body.options !== undefined) throw errors.validation('options are only for stream triggers');
      const app = await store.getAppById(body.app_id);
      if (!app) throw errors.appNotFound();
      const fn = await store.getFnById(body.fn_id);
      if (!fn) throw errors.fnNotFound();
      if (fn.app_id !== app.id) throw errors.validation('Invalid Fn ID - not owned by specified app');
      const id = deps.newId();
      const options = isStream ? await deps.streams.prepare(app, fn, name, source, body.options, undefined, id) : undefined;
      const now = deps.now();
      const trigger: Trigger = {
        id,
        name,
        app_id: app.id,
        fn_id: fn.id,
        type: body.type,
        source,
        annotations: mergeAnnotations({}, body.annotations, true),
        ...(options ? { options: options as unknown as Record<string, unknown> } : {}),
        created_at: now,
        updated_at: now,
      };
      await checkSourceFree(store, trigger);
      const saved = await store.insertTrigger(trigger).catch(conflict);
      if (options) {
        try {
          await deps.streams.initialize(saved, options);
        } catch (err) {
          // A trigger whose start position could not be stored must not run from a guessed one.
          await store.deleteTrigger(saved.id);
          throw err;
        }
        await deps.streams.sync();
      }
      return renderTrigger(saved, baseUrl(req, config.publicUrl), app.name);
    });

    api.get('/v2/triggers/:trigger_id', { schema: triggerSchemas.get }, async (req) => {
      const t = await load(req.params.trigger_id);
      return renderTrigger(t, baseUrl(req, config.publicUrl), await appName(t.app_id));
    });

    api.put('/v2/triggers/:trigger_id', { schema: triggerSchemas.update }, async (req) => {
      const body = req.body;
      // Fn writes this 400 and then updates anyway; fnts stops here (CONTRACT §4.3).
      if (body.id && body.id !== req.params.trigger_id) throw errors.idMismatch('ID in path does not match ID in body');
      const t = await load(req.params.trigger_id);
      const next: Trigger = { ...t, annotations: mergeAnnotations(t.annotations, body.annotations, false) };
      if (body.name) next.name = checkTriggerName(body.name);
      if (body.source) next.source = t.type === 'stream' ? checkStreamSource(body.source) : checkTriggerSource(body.source);
      if (body.options !== undefined && t.type !== 'stream') throw errors.validation('options are only for stream triggers');
      if (body.fn_id && body.fn_id !== t.fn_id) {
        const fn = await store.getFnById(body.fn_id);
        if (!fn) throw errors.fnNotFound();
        if (fn.app_id !== t.app_id) throw errors.validation('Invalid Fn ID - not owned by specified app');
        next.fn_id = fn.id;
      }
      if (t.type === 'stream' && (body.options !== undefined || body.source || body.name)) {
        const fn = await store.getFnById(next.fn_id);
        const app = await store.getAppById(t.app_id);
        if (!fn || !app) throw errors.fnNotFound();
        next.options = await deps.streams.prepare(app, fn, next.name, next.source, body.options, storedStreamOptions(t), t.id) as unknown as Record<string, unknown>;
      }
      const base = baseUrl(req, config.publicUrl);
      if (JSON.stringify(next) === JSON.stringify(t)) return renderTrigger(t, base, await appName(t.app_id));
      await checkSourceFree(store, next);
      if (next.type === 'stream') await deps.streams.reinitialize(t, next);
      next.updated_at = deps.now();
      const saved = await store.updateTrigger(next).catch(conflict);
      if (saved.type === 'stream') await deps.streams.sync();
      return renderTrigger(saved, base, await appName(t.app_id));
    });

    api.delete('/v2/triggers/:trigger_id', { schema: triggerSchemas.delete }, async (req, reply) => {
      const t = await load(req.params.trigger_id);
      await store.deleteTrigger(t.id);
      if (t.type === 'stream') {
        await deps.streams.sync();
        await deps.streams.forget(t.id);
      }
      return reply.code(204).send();
    });
  };
}
