import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callSchemas, DETACHED_INVOKE_TYPE, HEADER } from '@fnts/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, finished } from 'node:stream';
import type { CallOrigin, CallResponse } from '../agent/agent.js';
import { invokeRequestHeaders, invokeResponseHeaders, triggerRequestHeaders, triggerResponse, type HeaderMap } from '../agent/http-headers.js';
import { ClientGoneError, errors, isFntsError } from '../errors.js';
import type { App, Fn } from '../store/models.js';
import { checkTriggerAuth } from './auth.js';
import type { ApiDeps } from './deps.js';
import { RequestBodyReader } from './request-body.js';
import { documentedAs } from './openapi.js';

/**
 * Bodies up to this size with a declared length are read whole and sent in one write each way: every extra
 * write on the socket can wake the other process once more, which dominated small hot calls (bench/invoke.ts).
 */
const SMALL_BODY = 64 * 1024;
const INVOKE_TYPE = HEADER.invokeType.toLowerCase();

/** Reads a whole body, failing with 413 past the limit (events, not an async iterator: this is the hot path). */
function readAll(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        stream.off('data', onData);
        stream.resume(); // drain the rest so the connection stays usable
        reject(errors.payloadTooLarge(`request body is larger than the limit of ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** The function's answer, whole when it is small and its length known, else streamed. */
async function responseBody(res: CallResponse): Promise<Readable | Buffer> {
  const length = Number(res.headers['content-length'] ?? NaN);
  return length <= SMALL_BODY ? readAll(res.body, SMALL_BODY) : res.body;
}

/** Function calls: `POST /invoke/{fn_id}` and the HTTP triggers `ANY /t/{app}/{source...}`. */
export function callRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const { store, agent, config } = deps;

  const bodies = new RequestBodyReader(config);
  /** The call's body, read before any container is taken (request-body.ts); null when there is none. */
  const requestBody = (req: FastifyRequest): Promise<Readable | Buffer | null> => bodies.read(req.raw);

  /** Runs the call for a client that waits; undefined when the client went away first. */
  const run = async (
    app: App, fn: Fn, callId: string, headers: HeaderMap, body: Readable | Buffer | null, reply: FastifyReply,
    origin?: CallOrigin,
  ): Promise<CallResponse | undefined> => {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    // Until the function answers, a closed connection cancels the call; once the body streams, fastify
    // destroys it on a disconnect and the agent sees that instead.
    reply.raw.once('close', onClose);
    try {
      const res = await agent.call({ app, fn, callId, headers, body, signal: gone.signal, ...(origin ? { origin } : {}) });
      if (body instanceof Readable) finished(res.body, () => body.destroy());
      return res;
    } catch (err) {
      if (body instanceof Readable) body.destroy(); // frees its streaming slot even if no container took it
      if (err instanceof ClientGoneError) {
        reply.log.info({ call_id: callId }, 'client went away during the call');
        return undefined;
      }
      throw err;
    } finally {
      reply.raw.off('close', onClose);
    }
  };

  return async (api) => {
    // `Expect: 100-continue` is answered here rather than forwarded: 413 at once when the declared body is over the
    // limit (the client need not send it), else 100 and the request proceeds through fastify as usual.
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
    // The body is the function's input, whatever its type: leave the stream unread for the agent.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', (_req, _payload, done) => done(null));

    api.post('/invoke/:fn_id', {
      schema: { params: callSchemas.invoke.params },
      config: documentedAs(callSchemas.invoke),
    }, async (req, reply) => {
      const fn = await store.getFnById(req.params.fn_id);
      if (!fn) throw errors.fnNotFound();
      const app = await store.getAppById(fn.app_id);
      if (!app) throw errors.appNotFound();
      const callId = deps.newId();
      void reply.header(HEADER.callId, callId);
      const headers = invokeRequestHeaders(req.headers);
      const body = await requestBody(req);

      if (req.headers[INVOKE_TYPE] === DETACHED_INVOKE_TYPE) {
        // 202 only once the call is stored: the queue runs it when there is capacity, after a restart too.
        const input = body instanceof Readable ? await readAll(body, config.maxRequestBytes) : body;
        await deps.detached.submit({ app, fn, callId, headers, body: input });
        return reply.code(202).send();
      }

      const res = await run(app, fn, callId, headers, body, reply);
      if (!res) return reply;
      return reply.code(200).headers(invokeResponseHeaders(res.headers, callId)).send(await responseBody(res));
    });

    const trigger = async (req: FastifyRequest<{ Params: { app_name: string } }>, reply: FastifyReply) => {
      const app = await store.getAppByName(req.params.app_name);
      if (!app) throw errors.appNotFound();
      const path = req.url.split('?')[0] ?? '';
      const afterApp = path.slice('/t/'.length).replace(/^[^/]*/, '');
      let source: string;
      try {
        source = afterApp === '' ? '/' : decodeURIComponent(afterApp);
      } catch {
        throw errors.validation(`the path ${path} is not valid percent-encoding`);
      }
      const t = await store.getTriggerBySource(app.id, 'http', source);
      if (!t) throw errors.triggerNotFound();
      checkTriggerAuth(config.apiKeys, req, t.annotations);
      const fn = await store.getFnById(t.fn_id);
      if (!fn) throw errors.fnNotFound();
      const callId = deps.newId();
      void reply.header(HEADER.callId, callId);
      const url = `${req.protocol}://${req.headers.host ?? req.hostname}${req.url}`;
      let res: CallResponse | undefined;
      try {
        res = await run(app, fn, callId, triggerRequestHeaders(req.headers, req.method, url), await requestBody(req), reply, { triggerId: t.id });
      } catch (err) {
        // A trigger's callers are the function's users, maybe the public: they get the call id, never the
        // function's own error text (its owner reads it with `fnts get logs` or in the call record).
        throw isFntsError(err) ? err.withoutDetail() : err;
      }
      if (!res) return reply;
      const out = triggerResponse(res.headers, callId);
      return reply.code(out.status).headers(out.headers).send(await responseBody(res));
    };
    // Any method reaches the function; OpenAPI gets the methods it knows, and the wildcard as a `source` parameter.
    api.all('/t/:app_name', { config: documentedAs(callSchemas.httpTriggerRoot) }, trigger);
    api.all('/t/:app_name/*', { config: documentedAs(callSchemas.httpTrigger, '/t/:app_name/:source') }, trigger);
  };
}
