import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClientGoneError } from '../agent/agent.js';
import { invokeRequestHeaders, invokeResponseHeaders } from '../agent/http-headers.js';
import { errors } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { FnIdParams } from './schemas.js';

/** `POST /invoke/{fn_id}`: runs the function with the request body streamed in and its response streamed out. */
export function invokeRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, agent, config } = deps;
  return async (api) => {
    // The body is the function's input, whatever its type: leave the stream unread for the agent.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', (_req, _payload, done) => done(null));

    api.post('/invoke/:fn_id', { schema: { params: FnIdParams } }, async (req, reply) => {
      const fn = await store.getFnById(req.params.fn_id);
      if (!fn) throw errors.fnNotFound();
      const app = await store.getAppById(fn.app_id);
      if (!app) throw errors.appNotFound();
      const callId = deps.newId();
      void reply.header('fn-call-id', callId);
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > config.maxRequestBytes) {
        throw errors.payloadTooLarge(`Content-Length too large for this server, ${length} > max ${config.maxRequestBytes}`);
      }
      const hasBody = length > 0 || req.headers['transfer-encoding'] !== undefined;
      const gone = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      try {
        const res = await agent.call({
          app,
          fn,
          callId,
          headers: invokeRequestHeaders(req.headers),
          body: hasBody ? req.raw : null,
          signal: gone.signal,
        });
        return reply.code(200).headers(invokeResponseHeaders(res.headers, callId)).send(res.body);
      } catch (err) {
        if (err instanceof ClientGoneError) {
          req.log.info({ call_id: callId }, 'client went away during the call');
          return reply;
        }
        throw err;
      }
    });
  };
}
