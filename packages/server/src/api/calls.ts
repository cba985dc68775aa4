import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callSchemas } from '@fnts/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../errors.js';
import type { CallEndpoint } from './call-endpoint.js';
import type { ApiDeps } from './deps.js';
import { documentedAs } from './openapi.js';

/**
 * Function calls as fastify routes: `POST /invoke/{fn_id}` and the HTTP triggers `ANY /t/{app}/{source...}`. The
 * server serves most calls before fastify sees them (call-endpoint.ts); these routes document the calls and serve
 * what the endpoint leaves to the router (percent-encoded names, `inject` in tests) with the same code, after
 * fastify's own hooks (API keys) ran.
 */
export function callRoutes(deps: ApiDeps, endpoint: CallEndpoint): FastifyPluginAsyncTypebox {
  const { config } = deps;
  return async (api) => {
    // `Expect: 100-continue` is answered here rather than forwarded: 413 at once when the declared body is over the
    // limit (the client need not send it), else 100 and the request proceeds as usual.
    api.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > config.maxRequestBytes) {
        const err = errors.payloadTooLarge(`Content-Length too large for this server, ${length} > max ${config.maxRequestBytes}`);
        res.writeHead(err.status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
        res.end(JSON.stringify({ message: err.message, code: err.code }));
        return;
      }
      res.writeContinue();
      api.server.emit('request', req, res);
    });
    // The body is the function's input, whatever its type: leave the stream unread for the endpoint.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', (_req, _payload, done) => done(null));

    api.post('/invoke/:fn_id', {
      schema: { params: callSchemas.invoke.params },
      config: documentedAs(callSchemas.invoke),
    }, async (req, reply) => {
      reply.hijack();
      await endpoint.invoke(req.raw, reply.raw, req.params.fn_id);
    });

    const trigger = async (req: FastifyRequest<{ Params: { app_name: string } }>, reply: FastifyReply) => {
      reply.hijack();
      await endpoint.trigger(req.raw, reply.raw, req.params.app_name);
    };
    // Any method reaches the function; OpenAPI gets the methods it knows, and the wildcard as a `source` parameter.
    api.all('/t/:app_name', { config: documentedAs(callSchemas.httpTriggerRoot) }, trigger);
    api.all('/t/:app_name/*', { config: documentedAs(callSchemas.httpTrigger, '/t/:app_name/:source') }, trigger);
  };
}
