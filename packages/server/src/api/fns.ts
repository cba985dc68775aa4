import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fnSchemas } from '@fnts/api';
import { errors } from '../errors.js';
import { UniqueViolation } from '../store/datastore.js';
import { FN_DEFAULTS, type App, type Fn } from '../store/models.js';
import { useResourceBodyRules } from './body-rules.js';
import type { ApiDeps } from './deps.js';
import { listBody, listOptions } from './pagination.js';
import { baseUrl, renderFn } from './render.js';
import { warmAnnotationProblem } from '../agent/warm-settings.js';
import { checkFnName, checkImage, checkRange, mergeAnnotations, mergeConfig } from './validate.js';

/** fnts's own fields where `null` on PUT goes back to the server default (every other `null` is absent). */
const NULL_RESETS: ReadonlySet<string> = new Set(['max_containers', 'concurrency']);

/** Functions: `/v2/fns` (CONTRACT §4.1). */
export function fnRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, config } = deps;
  const load = async (id: string): Promise<Fn> => (await store.getFnById(id)) ?? Promise.reject(errors.fnNotFound());
  /** The fnts annotations that keep a fn warm, checked against the fn as it would be stored. */
  const checkWarmAnnotations = (fn: Fn): void => {
    const problem = warmAnnotationProblem(fn.annotations, fn.max_containers ?? config.maxContainersPerFn);
    if (problem) throw errors.validation(problem);
  };
  /** A new version is stored: its containers start in the background (agent.ts); the write has succeeded whatever they do. */
  const prestart = (app: App, fn: Fn): void => deps.agent.prestartNewVersion(app, fn);

  return async (api) => {
    useResourceBodyRules(api, NULL_RESETS);
    api.get('/v2/fns', { schema: fnSchemas.list }, async (req) => {
      if (!req.query.app_id) throw errors.validation('Missing AppID on Fn');
      if (!(await store.getAppById(req.query.app_id))) throw errors.appNotFound();
      const base = baseUrl(req, config.publicUrl);
      return listBody(await store.listFns(req.query.app_id, listOptions(req.query)), (fn) => renderFn(fn, base));
    });

    api.post('/v2/fns', { schema: fnSchemas.create }, async (req) => {
      const body = req.body;
      if (body.id) throw errors.validation('ID cannot be provided for Fn creation');
      if (!body.app_id) throw errors.validation('Missing AppID on Fn');
      const name = checkFnName(body.name);
      if (!body.image) throw errors.validation('Missing image on Fn');
      checkImage(body.image);
      // Fn treats 0 as "use the default" on create.
      const pick = (field: 'memory' | 'timeout' | 'idle_timeout') =>
        checkRange(field, body[field] === undefined || body[field] === 0 ? FN_DEFAULTS[field] : body[field]);
      const fields = {
        memory: pick('memory'),
        timeout: pick('timeout'),
        idle_timeout: pick('idle_timeout'),
        ...(body.max_containers ? { max_containers: checkRange('max_containers', body.max_containers) } : {}),
        ...(body.concurrency ? { concurrency: checkRange('concurrency', body.concurrency) } : {}),
      };
      const app = await store.getAppById(body.app_id);
      if (!app) throw errors.appNotFound();
      const now = deps.now();
      const fn: Fn = {
        id: deps.newId(),
        name,
        app_id: app.id,
        image: body.image,
        ...fields,
        config: mergeConfig({}, body.config),
        annotations: mergeAnnotations({}, body.annotations, true),
        ...(app.shape ? { shape: app.shape } : {}),
        created_at: now,
        updated_at: now,
      };
      checkWarmAnnotations(fn);
      try {
        const stored = await store.insertFn(fn);
        prestart(app, stored);
        return renderFn(stored, baseUrl(req, config.publicUrl));
      } catch (err) {
        if (err instanceof UniqueViolation) throw errors.conflict('Fn with specified name already exists');
        throw err;
      }
    });

    api.get('/v2/fns/:fn_id', { schema: fnSchemas.get }, async (req) =>
      renderFn(await load(req.params.fn_id), baseUrl(req, config.publicUrl)),
    );

    api.put('/v2/fns/:fn_id', { schema: fnSchemas.update }, async (req) => {
      const body = req.body;
      // Fn writes this 400 and then updates anyway; fnts stops here (CONTRACT §4.3).
      if (body.id && body.id !== req.params.fn_id) throw errors.idMismatch('Fn ID in path does not match that in body');
      const fn = await load(req.params.fn_id);
      const next: Fn = {
        ...fn,
        config: mergeConfig(fn.config, body.config),
        annotations: mergeAnnotations(fn.annotations, body.annotations, false),
      };
      if (body.image) next.image = checkImage(body.image);
      for (const field of ['memory', 'timeout', 'idle_timeout'] as const) {
        const v = body[field];
        if (v !== undefined && v !== 0) next[field] = checkRange(field, v);
      }
      for (const field of ['max_containers', 'concurrency'] as const) {
        const v = body[field];
        if (v === null) delete next[field];
        else if (v !== undefined && v !== 0) next[field] = checkRange(field, v);
      }
      const base = baseUrl(req, config.publicUrl);
      if (JSON.stringify(next) === JSON.stringify(fn)) return renderFn(fn, base);
      checkWarmAnnotations(next);
      next.updated_at = deps.now();
      const stored = await store.updateFn(next);
      const app = await store.getAppById(stored.app_id);
      if (app) prestart(app, stored);
      return renderFn(stored, base);
    });

    api.delete('/v2/fns/:fn_id', { schema: fnSchemas.delete }, async (req, reply) => {
      if (!(await store.deleteFn(req.params.fn_id))) throw errors.fnNotFound();
      deps.agent.logs.forget(req.params.fn_id);
      deps.agent.forgetFn(req.params.fn_id);
      await deps.streams.sync(); // its stream triggers went with it
      return reply.code(204).send();
    });
  };
}
