import type { FastifyRequest } from 'fastify';
import type { App, Fn, Trigger } from '../store/models.js';
import type { AppJson, FnJson, TriggerJson } from '@fnts/api';

/** The base URL for endpoint annotations: the configured public URL, else what the caller used (CONTRACT §4.5). */
export function baseUrl(req: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${req.protocol}://${req.headers.host ?? `${req.hostname}`}`;
}

const nonEmpty = (o: Record<string, unknown>) => Object.keys(o).length > 0;

/** App JSON: config and annotations are omitted when empty. */
export function renderApp(app: App): AppJson {
  const { config, annotations, ...rest } = app;
  return {
    ...rest,
    ...(nonEmpty(config) ? { config } : {}),
    ...(nonEmpty(annotations) ? { annotations } : {}),
  };
}

/** Fn JSON: config always present; annotations carry the invoke endpoint when a base URL is given. */
export function renderFn(fn: Fn, base?: string): FnJson {
  const annotations = base ? { ...fn.annotations, 'fnproject.io/fn/invokeEndpoint': `${base}/invoke/${fn.id}` } : fn.annotations;
  const { annotations: _stored, ...rest } = fn;
  return { ...rest, ...(nonEmpty(annotations) ? { annotations } : {}) };
}

/** Trigger JSON: HTTP triggers carry their public endpoint when a base URL and the app's name are known. */
export function renderTrigger(t: Trigger, base?: string, appName?: string): TriggerJson {
  const annotations =
    base && appName && t.type === 'http'
      ? { ...t.annotations, 'fnproject.io/trigger/httpEndpoint': `${base}/t/${appName}/${t.source.replace(/^\//, '')}` }
      : t.annotations;
  const { annotations: _stored, ...rest } = t;
  return { ...rest, ...(nonEmpty(annotations) ? { annotations } : {}) };
}
