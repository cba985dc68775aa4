import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { appSchemas } from '@fnts/api';
import { errors } from '../errors.js';
import { UniqueViolation } from '../store/datastore.js';
import type { App } from '../store/models.js';
import { useResourceBodyRules } from './body-rules.js';
import type { ApiDeps } from './deps.js';
import { listBody, listOptions } from './pagination.js';
import { renderApp } from './render.js';
import { checkAppName, checkSyslogUrl, mergeAnnotations, mergeConfig } from './validate.js';

const SHAPES = ['GENERIC_X86', 'GENERIC_ARM', 'GENERIC_X86_ARM'];

/** Apps: `/v2/apps` (CONTRACT §4.1). */
export function appRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store } = deps;
  const load = async (id: string): Promise<App> => (await store.getAppById(id)) ?? Promise.reject(errors.appNotFound());

  return async (api) => {
    useResourceBodyRules(api);
    api.get('/v2/apps', { schema: appSchemas.list }, async (req) =>
      listBody(await store.listApps(listOptions(req.query)), renderApp),
    );

    api.post('/v2/apps', { schema: appSchemas.create }, async (req) => {
      const body = req.body;
      if (body.id) throw errors.validation('App ID cannot be supplied on create');
      const name = checkAppName(body.name);
      if (body.syslog_url) checkSyslogUrl(body.syslog_url);
      if (body.shape !== undefined && body.shape !== '' && !SHAPES.includes(body.shape)) {
        throw errors.validation('Invalid app shape');
      }
      const now = deps.now();
      const app: App = {
        id: deps.newId(),
        name,
        config: mergeConfig({}, body.config),
        annotations: mergeAnnotations({}, body.annotations, true),
        ...(body.syslog_url ? { syslog_url: body.syslog_url } : {}),
        ...(body.shape ? { shape: body.shape } : {}),
        created_at: now,
        updated_at: now,
      };
      try {
        return renderApp(await store.insertApp(app));
      } catch (err) {
        if (err instanceof UniqueViolation) throw errors.conflict('App already exists');
        throw err;
      }
    });

    api.get('/v2/apps/:app_id', { schema: appSchemas.get }, async (req) => renderApp(await load(req.params.app_id)));

    api.put('/v2/apps/:app_id', { schema: appSchemas.update }, async (req) => {
      const body = req.body;
      if (body.id && body.id !== req.params.app_id) throw errors.idMismatch('App ID in path does not match ID in body');
      const app = await load(req.params.app_id);
      if (body.name && body.name !== app.name) throw errors.conflict('Could not update - name is immutable');
      const next: App = {
        ...app,
        config: mergeConfig(app.config, body.config),
        annotations: mergeAnnotations(app.annotations, body.annotations, false),
      };
      if (body.syslog_url !== undefined) {
        if (body.syslog_url === '') delete next.syslog_url;
        else next.syslog_url = checkSyslogUrl(body.syslog_url);
      }
      if (JSON.stringify(next) === JSON.stringify(app)) return renderApp(app);
      next.updated_at = deps.now();
      return renderApp(await store.updateApp(next));
    });

    api.delete('/v2/apps/:app_id', { schema: appSchemas.delete }, async (req, reply) => {
      const fnIds: string[] = [];
      for (let after: string | undefined; ; ) {
        const page = await store.listFns(req.params.app_id, { limit: 100, ...(after !== undefined ? { after } : {}) });
        fnIds.push(...page.items.map((fn) => fn.id));
        if (page.nextCursor === undefined) break;
        after = page.nextCursor;
      }
      if (!(await store.deleteApp(req.params.app_id))) throw errors.appNotFound();
      for (const id of fnIds) {
        deps.agent.logs.forget(id); // their output goes with them
        deps.agent.forgetFn(id);
      }
      await deps.streams.sync(); // its stream triggers went with it
      return reply.code(204).send();
    });
  };
}
