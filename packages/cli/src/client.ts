import type {
  Annotations, AppJson, CallRecord, AppPatch, ConfigMap, FnJson, FnPatch, List, MessagePage, MessagePosition, NewApp, NewFn, NewStream,
  NewTrigger, OutgoingMessage, PartitionStatus, RedriveResult, SeekPosition, Stream, StreamMessage, TriggerJson,
  TriggerPatch, TriggerStatus,
} from '@fnts/api';
import { request, type HttpMethod, type HttpResponse } from './http-request.js';
import { cliErrors } from './errors.js';

// The API's types live in @fnts/api (type-only imports: nothing of it loads at run time); these names are the CLI's.
export type {
  Annotations, AppPatch, ConfigMap, FnPatch, MessagePage, MessagePosition, NewApp, NewFn, NewStream, NewTrigger,
  OutgoingMessage, PartitionStatus, RedriveResult, SeekPosition, Stream, StreamMessage, TriggerPatch, TriggerStatus,
};
export type App = AppJson;
export type Call = CallRecord;
export type Fn = FnJson;
export type Trigger = TriggerJson;
/** A stream trigger's options, snake_case as in the API and func.yaml (packages/server/README.md). */
export type TriggerOptions = NonNullable<TriggerJson['options']>;

export interface TriggerQuery {
  appId: string;
  fnId?: string;
  name?: string;
}

export interface InvokeResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export { HTTP_ENDPOINT_ANNOTATION, INVOKE_ENDPOINT_ANNOTATION } from '@fnts/api/contract';

/** The largest page the server hands out; fewer round trips when listing everything. */
const PAGE_SIZE = 100;

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

const seg = encodeURIComponent;

/** A typed client for the fnts (Fn v2) API. */
export class ApiClient {
  /**
   * `apiKey` goes as `Authorization: Bearer` on every request, as Fn's CLI sends FN_TOKEN; `signal` aborts every
   * request it makes (completion gives its lookups a short deadline).
   */
  constructor(readonly baseUrl: string, private readonly apiKey?: string, private readonly signal?: AbortSignal) {}

  /** The headers every request carries, plus `extra`. */
  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.apiKey ? { ...extra, authorization: `Bearer ${this.apiKey}` } : extra;
  }

  private async send(method: HttpMethod, path: string, body?: unknown, callSignal?: AbortSignal): Promise<HttpResponse> {
    const signal = callSignal ?? this.signal;
    try {
      return await request(`${this.baseUrl}${path}`, {
        method,
        ...(body === undefined ? { headers: this.headers() } : { body: JSON.stringify(body), headers: this.headers({ 'content-type': 'application/json' }) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      // A caller that stops (Ctrl-C on `stream tail --follow`) gets its abort back, not "server unreachable".
      if (signal?.aborted) throw err;
      const e = err as { code?: string; message?: string };
      throw cliErrors.serverUnreachable(this.baseUrl, e.code ?? e.message ?? String(err));
    }
  }

  private async json<T>(method: HttpMethod, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.send(method, path, body, signal);
    const text = await res.body.text();
    if (res.statusCode >= 400) this.fail(res.statusCode, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Turns an error response into a CliError with the server's message and code. */
  private fail(status: number, text: string): never {
    let parsed: { message?: string; code?: string } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // not an API error body; fall back to the raw text
    }
    const message = parsed.message ?? (text || 'no message');
    // An older server, or something that is not an Fn server at all, answers an unknown route this way.
    const hint = message.startsWith('Path not found') || message.startsWith('Method not allowed')
      ? `the server at ${this.baseUrl} does not have this API; check FNTS_API_URL and the server's version`
      : undefined;
    throw cliErrors.api(status, message, parsed.code, hint);
  }

  /** The server's version, from `GET /version` (Fn's route, public even where API keys are required). */
  async serverVersion(): Promise<string> {
    const { version } = await this.json<{ version?: unknown }>('GET', '/version');
    if (typeof version !== 'string') throw cliErrors.api(200, 'the answer to GET /version has no version', undefined, `is ${this.baseUrl} an fnts or Fn server?`);
    return version;
  }

  /** A function's recent output as NDJSON lines; with `follow` the stream stays open for new lines. */
  async logs(fnId: string, opts: { tail: number; follow: boolean }): Promise<NodeJS.ReadableStream> {
    const res = await this.send('GET', `/v2/fns/${seg(fnId)}/logs?tail=${opts.tail}&follow=${opts.follow}`);
    if (res.statusCode >= 400) this.fail(res.statusCode, await res.body.text());
    return res.body;
  }

  // Calls

  /** A function's most recent calls, newest first, at most `limit` of them. */
  async listCalls(fnId: string, limit: number): Promise<Call[]> {
    const items: Call[] = [];
    let cursor: string | undefined;
    while (items.length < limit) {
      const perPage = String(Math.min(PAGE_SIZE, limit - items.length));
      const page = await this.json<List<Call>>('GET', `/v2/fns/${seg(fnId)}/calls${query({ per_page: perPage, cursor })}`);
      items.push(...page.items);
      if (!page.next_cursor || page.items.length === 0 || page.next_cursor === cursor) break;
      cursor = page.next_cursor;
    }
    return items;
  }

  getCall(fnId: string, callId: string): Promise<Call> {
    return this.json('GET', `/v2/fns/${seg(fnId)}/calls/${seg(callId)}`);
  }

  /** What one call printed, as text (empty when it printed nothing). */
  async callLog(fnId: string, callId: string): Promise<string> {
    const res = await this.send('GET', `/v2/fns/${seg(fnId)}/calls/${seg(callId)}/log`);
    const text = await res.body.text();
    if (res.statusCode >= 400) this.fail(res.statusCode, text);
    return text;
  }

  /** Follows `next_cursor` until the last page, so callers get every item. */
  private async listAll<T>(path: string, params: Record<string, string | undefined>): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.json<List<T>>('GET', `${path}${query({ ...params, per_page: String(PAGE_SIZE), cursor })}`);
      items.push(...page.items);
      // A full page may still be the last one (CONTRACT §4.6); an empty page or no cursor ends the walk.
      if (!page.next_cursor || page.items.length === 0 || page.next_cursor === cursor) return items;
      cursor = page.next_cursor;
    }
  }

  // Apps

  listApps(name?: string): Promise<App[]> {
    return this.listAll<App>('/v2/apps', { name });
  }

  /** The app with exactly this name, if any. */
  async findApp(name: string): Promise<App | undefined> {
    return (await this.listApps(name)).find((a) => a.name === name);
  }

  getApp(id: string): Promise<App> {
    return this.json('GET', `/v2/apps/${seg(id)}`);
  }

  createApp(app: NewApp): Promise<App> {
    return this.json('POST', '/v2/apps', app);
  }

  updateApp(id: string, patch: AppPatch): Promise<App> {
    return this.json('PUT', `/v2/apps/${seg(id)}`, patch);
  }

  async deleteApp(id: string): Promise<void> {
    await this.json('DELETE', `/v2/apps/${seg(id)}`);
  }

  // Functions

  listFns(appId: string, name?: string): Promise<Fn[]> {
    return this.listAll<Fn>('/v2/fns', { app_id: appId, name });
  }

  /** The app's fn with exactly this name, if any. */
  async findFn(appId: string, name: string): Promise<Fn | undefined> {
    return (await this.listFns(appId, name)).find((f) => f.name === name);
  }

  getFn(id: string): Promise<Fn> {
    return this.json('GET', `/v2/fns/${seg(id)}`);
  }

  createFn(fn: NewFn): Promise<Fn> {
    return this.json('POST', '/v2/fns', fn);
  }

  updateFn(id: string, patch: FnPatch): Promise<Fn> {
    return this.json('PUT', `/v2/fns/${seg(id)}`, patch);
  }

  async deleteFn(id: string): Promise<void> {
    await this.json('DELETE', `/v2/fns/${seg(id)}`);
  }

  // Triggers

  listTriggers(q: TriggerQuery): Promise<Trigger[]> {
    return this.listAll<Trigger>('/v2/triggers', { app_id: q.appId, fn_id: q.fnId, name: q.name });
  }

  /** The fn's trigger with exactly this name, if any. */
  async findTrigger(appId: string, fnId: string, name: string): Promise<Trigger | undefined> {
    return (await this.listTriggers({ appId, fnId, name })).find((t) => t.name === name && t.fn_id === fnId);
  }

  getTrigger(id: string): Promise<Trigger> {
    return this.json('GET', `/v2/triggers/${seg(id)}`);
  }

  createTrigger(trigger: NewTrigger): Promise<Trigger> {
    return this.json('POST', '/v2/triggers', trigger);
  }

  updateTrigger(id: string, patch: TriggerPatch): Promise<Trigger> {
    return this.json('PUT', `/v2/triggers/${seg(id)}`, patch);
  }

  async deleteTrigger(id: string): Promise<void> {
    await this.json('DELETE', `/v2/triggers/${seg(id)}`);
  }

  // Stream triggers (fnts extension)

  triggerStatus(id: string): Promise<TriggerStatus> {
    return this.json('GET', `/v2/triggers/${seg(id)}/status`);
  }

  pauseTrigger(id: string): Promise<TriggerStatus> {
    return this.json('POST', `/v2/triggers/${seg(id)}/pause`);
  }

  resumeTrigger(id: string): Promise<TriggerStatus> {
    return this.json('POST', `/v2/triggers/${seg(id)}/resume`);
  }

  /** Moves a paused trigger's read position, for every partition or only `partition`. */
  seekTrigger(id: string, position: SeekPosition, partition?: number): Promise<TriggerStatus> {
    return this.json('POST', `/v2/triggers/${seg(id)}/seek`, { position, ...(partition === undefined ? {} : { partition }) });
  }

  /** Sends the trigger's dead letters back to its function, in order, stopping at the first that fails again. */
  redriveTrigger(id: string): Promise<RedriveResult> {
    return this.json('POST', `/v2/triggers/${seg(id)}/redrive`);
  }

  // Streams (fnts extension)

  listStreams(): Promise<Stream[]> {
    return this.listAll<Stream>('/v2/streams', {});
  }

  /** A stream by name or id, with its partitions' offsets. */
  getStream(nameOrId: string): Promise<Stream> {
    return this.json('GET', `/v2/streams/${seg(nameOrId)}`);
  }

  createStream(stream: NewStream): Promise<Stream> {
    return this.json('POST', '/v2/streams', stream);
  }

  updateStream(nameOrId: string, patch: { retention_ms: number }): Promise<Stream> {
    return this.json('PUT', `/v2/streams/${seg(nameOrId)}`, patch);
  }

  /** `force` also deletes a stream that holds a live trigger's dead letters. */
  async deleteStream(nameOrId: string, force = false): Promise<void> {
    await this.json('DELETE', `/v2/streams/${seg(nameOrId)}${force ? '?force=true' : ''}`);
  }

  /** Appends messages (at most 10,000 per call); answers where each went, in order. */
  async putMessages(stream: string, encoding: 'utf8' | 'base64', messages: readonly OutgoingMessage[]): Promise<MessagePosition[]> {
    return (await this.json<{ offsets: MessagePosition[] }>('POST', `/v2/streams/${seg(stream)}/messages`, { encoding, messages })).offsets;
  }

  /** Reads up to `limit` (at most 1,000) messages of one partition from `offset` (clamped to the oldest kept). */
  readMessages(
    stream: string,
    q: { partition: number; offset?: number; limit?: number; encoding?: 'utf8' | 'base64' },
    signal?: AbortSignal,
  ): Promise<MessagePage> {
    const params = query({
      partition: String(q.partition),
      offset: q.offset === undefined ? undefined : String(q.offset),
      limit: q.limit === undefined ? undefined : String(q.limit),
      encoding: q.encoding,
    });
    return this.json('GET', `/v2/streams/${seg(stream)}/messages${params}`, undefined, signal);
  }

  /** Calls the function at its invoke endpoint; any status comes back as a result, not an error. */
  async invoke(url: string, body: Buffer, contentType: string): Promise<InvokeResult> {
    let res: HttpResponse;
    try {
      res = await request(url, { method: 'POST', body, headers: this.headers({ 'content-type': contentType }) });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw cliErrors.serverUnreachable(this.baseUrl, e.code ?? e.message ?? String(err));
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  }
}
