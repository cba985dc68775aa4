import { DETACHED_INVOKE_TYPE, HEADER } from '@fnts/api/contract';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, finished } from 'node:stream';
import type { Logger } from 'pino';
import type { CallOrigin, CallResponse } from '../agent/agent.js';
import { CallCancel } from '../agent/call-cancel.js';
import { invokeRequestHeaders, invokeResponseHeaders, triggerRequestHeaders, triggerResponse, type HeaderMap } from '../agent/http-headers.js';
import { ClientGoneError, errors, isFntsError } from '../errors.js';
import { authorize } from './auth.js';
import { CallTargets, type CallTarget } from './call-targets.js';
import { answerError, readAll, sendBuffer, sendEmpty, sendStream } from './call-response.js';
import type { ApiDeps } from './deps.js';
import { RequestBodyReader } from './request-body.js';

const INVOKE_TYPE = HEADER.invokeType.toLowerCase();
const CALL_ID = HEADER.callId.toLowerCase();
const INVOKE_PREFIX = '/invoke/';
const TRIGGER_PREFIX = '/t/';
/** fastify's router refuses longer path parameters (app.ts, maxParamLength); such paths are left to it. */
const MAX_PARAM_LENGTH = 300;

/**
 * The call path: `POST /invoke/{fn_id}` and the HTTP triggers `ANY /t/{app}/{source...}`, served on node's own
 * request and response. The server hands every request here before fastify (app.ts, serverFactory), so a hot call
 * pays for no router, request or reply objects, hooks or schema checks; fastify keeps the management API and every
 * spelling of a call path this does not take (percent-encoded names, odd methods, a closing server), which its own
 * routes (calls.ts) serve with this same code. Errors, limits, API keys, headers, metrics and call records are
 * those of the rest of the API: the error registry, request-body.ts, auth.ts and the agent.
 */
export class CallEndpoint {
  private readonly targets: CallTargets;
  private readonly bodies: RequestBodyReader;
  private closing = false;

  constructor(
    private readonly deps: ApiDeps,
    private readonly log: Logger,
  ) {
    this.targets = new CallTargets(deps.store);
    this.bodies = new RequestBodyReader(deps.config);
  }

  /** From now on every request goes to fastify, which answers 503 while the server closes. */
  close(): void {
    this.closing = true;
  }

  /** Takes a call off the server's request event; false when the request is fastify's to route. */
  dispatch(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.closing) return false;
    const url = req.url as string;
    if (url.startsWith(INVOKE_PREFIX)) {
      if (req.method !== 'POST') return false;
      const fnId = segment(url, INVOKE_PREFIX.length);
      // A fn id is one segment: `/invoke/{id}/more` is fastify's 404.
      if (fnId === undefined || url.charCodeAt(INVOKE_PREFIX.length + fnId.length) === SLASH) return false;
      const { apiKeys } = this.deps.config;
      if (apiKeys.length > 0) {
        try {
          authorize(apiKeys, req.headers, 'invoke');
        } catch (err) {
          answerError(res, err, undefined, this.log);
          return true;
        }
      }
      void this.invoke(req, res, fnId);
      return true;
    }
    if (url.startsWith(TRIGGER_PREFIX)) {
      const appName = segment(url, TRIGGER_PREFIX.length);
      if (appName === undefined) return false;
      void this.trigger(req, res, appName);
      return true;
    }
    return false;
  }

  /** `POST /invoke/{fn_id}`; the caller has checked its API key. */
  async invoke(req: IncomingMessage, res: ServerResponse, fnId: string): Promise<void> {
    let callId: string | undefined;
    try {
      const target = this.targets.cachedFn(fnId) ?? await this.targets.resolveFn(fnId);
      callId = this.deps.newId();
      const headers = invokeRequestHeaders(req.headers);
      const body = await this.bodies.read(req);
      if (req.headers[INVOKE_TYPE] === DETACHED_INVOKE_TYPE) {
        // 202 only once the call is stored: the queue runs it when there is capacity, after a restart too.
        const input = body instanceof Readable ? await readAll(body, this.deps.config.maxRequestBytes) : body;
        await this.deps.detached.submit({ app: target.app, fn: target.fn, callId, headers, body: input });
        sendEmpty(res, 202, CALL_ID, callId);
        return;
      }
      const out = await this.run(target, callId, headers, body, res, undefined);
      if (out) this.answer(res, 200, invokeResponseHeaders(out.headers, callId), out, callId);
    } catch (err) {
      answerError(res, err, callId, this.log);
    }
  }

  /** `ANY /t/{app}/{source...}`: the app name as routed (decoded), the source from the raw URL. */
  async trigger(req: IncomingMessage, res: ServerResponse, appName: string): Promise<void> {
    let callId: string | undefined;
    try {
      const url = req.url as string;
      let source: string;
      try {
        source = triggerSource(url);
      } catch (err) {
        await this.targets.requireApp(appName); // an unknown app is a 404 whatever the rest of the path
        throw err;
      }
      const { apiKeys } = this.deps.config;
      const checkKey = () => {
        if (apiKeys.length > 0) authorize(apiKeys, req.headers, 'invoke');
      };
      const cached = this.targets.cachedRoute(appName, source);
      if (cached?.needsKey) checkKey();
      const target = cached ?? await this.targets.resolveRoute(appName, source, checkKey);
      callId = this.deps.newId();
      const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https://' : 'http://';
      const headers = triggerRequestHeaders(req.headers, req.method as string, scheme + (req.headers.host ?? '') + url);
      let out: CallResponse | undefined;
      try {
        out = await this.run(target, callId, headers, await this.bodies.read(req), res, target.origin);
      } catch (err) {
        // A trigger's callers are the function's users, maybe the public: they get the call id, never the
        // function's own error text (its owner reads it with `fnts get logs` or in the call record).
        throw isFntsError(err) ? err.withoutDetail() : err;
      }
      if (!out) return;
      const answer = triggerResponse(out.headers, callId);
      this.answer(res, answer.status, answer.headers, out, callId);
    } catch (err) {
      answerError(res, err, callId, this.log);
    }
  }

  /** Runs the call for a client that waits; undefined when the client went away first. */
  private async run(
    target: CallTarget, callId: string, headers: HeaderMap, body: Readable | Buffer | null, res: ServerResponse,
    origin: CallOrigin | undefined,
  ): Promise<CallResponse | undefined> {
    const gone = new CallCancel();
    const onClose = () => gone.abort(new ClientGoneError());
    // Until the function answers, a closed connection cancels the call; once the body streams, the response's
    // end or the connection's loss ends it (call-response.ts) and the agent sees that instead.
    res.on('close', onClose); // removed below, so no `once` wrapper is needed
    try {
      const out = await this.deps.agent.call({
        app: target.app, fn: target.fn, callId, headers, body, signal: gone, origin,
      });
      if (body instanceof Readable) {
        if (Buffer.isBuffer(out.body)) body.destroy();
        else finished(out.body, () => body.destroy());
      }
      return out;
    } catch (err) {
      if (body instanceof Readable) body.destroy(); // frees its streaming slot even if no container took it
      if (err instanceof ClientGoneError) {
        this.log.info({ call_id: callId }, 'client went away during the call');
        return undefined;
      }
      throw err;
    } finally {
      res.off('close', onClose);
    }
  }

  /** The function's answer: in one write when the agent read it whole (small, its length known), else streamed. */
  private answer(res: ServerResponse, status: number, headers: HeaderMap, out: CallResponse, callId: string): void {
    if (Buffer.isBuffer(out.body)) sendBuffer(res, status, headers, out.body);
    else sendStream(res, status, headers, out.body, callId, this.log);
  }
}

const SLASH = 0x2f;
const PERCENT = '%';

/**
 * The path segment starting at `from`, up to the next `/` or `?`; undefined when it is empty, longer than the router
 * takes, or percent-encoded (fastify decodes those, so it serves them).
 */
function segment(url: string, from: number): string | undefined {
  let end = from;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === SLASH || c === 0x3f) break;
    end++;
  }
  if (end === from || end - from > MAX_PARAM_LENGTH) return undefined;
  const s = url.slice(from, end);
  return s.includes(PERCENT) ? undefined : s;
}

/** The trigger's source: the decoded path after `/t/{app}`, `/` when there is none; 400 when it does not decode. */
export function triggerSource(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const slash = path.indexOf('/', TRIGGER_PREFIX.length);
  if (slash === -1) return '/';
  const afterApp = path.slice(slash);
  if (!afterApp.includes(PERCENT)) return afterApp;
  try {
    return decodeURIComponent(afterApp);
  } catch {
    throw errors.validation(`the path ${path} is not valid percent-encoding`);
  }
}
