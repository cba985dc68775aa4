import { callSchemas } from '@fnts/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';
import { FNTS_VERSION } from '../version.js';

/** Turns a fastify route pattern (`/v2/apps/:app_id`, `/t/:app/*`) into a regex over concrete paths. */
function patternRegex(url: string): RegExp {
  const body = url
    .split('/')
    .map((seg) => (seg === '*' ? '.*' : seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}$`);
}

/**
 * Remembers every route so an unknown path answers 404 `Path not found` and a known path with the wrong
 * method answers 405 `Method not allowed`, with Fn's texts (CONTRACT §4.1). Register before the routes.
 */
export function routeTable(app: FastifyInstance): (req: FastifyRequest, reply: FastifyReply) => FastifyReply {
  const routes: { methods: string[]; regex: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    routes.push({ methods: ([] as string[]).concat(route.method), regex: patternRegex(route.url) });
  });
  return (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const known = routes.some((r) => r.regex.test(path));
    const err = known
      ? errors.methodNotAllowed(`Method not allowed: ${req.method} ${path}`)
      : errors.pathNotFound(`Path not found: ${req.method} ${path}`);
    return reply.code(err.status).send({ message: err.message, code: err.code });
  };
}

/** `GET /` and `GET /version` (call records and a call's log are in call-records.ts). */
export async function metaRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: callSchemas.root }, async () => ({ hello: 'world!', goto: 'https://github.com/fnproject/fn' }));
  app.get('/version', { schema: callSchemas.version }, async () => ({ version: FNTS_VERSION }));
}
