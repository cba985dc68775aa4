import { request, type Dispatcher } from 'undici';
import { cliErrors } from './errors.js';

export interface App { id: string; name: string; config?: Record<string, string>; annotations?: Record<string, unknown> }
export interface Fn {
  id: string; name: string; app_id: string; image: string; memory?: number; timeout?: number; idle_timeout?: number;
  config: Record<string, string>; annotations?: Record<string, unknown>;
}
interface List<T> { items: T[]; next_cursor?: string }

export interface InvokeResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A typed client for the fnts (Fn v2) API. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  private async send(method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<Dispatcher.ResponseData> {
    try {
      return await request(`${this.baseUrl}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw cliErrors.serverUnreachable(this.baseUrl, e.code ?? e.message ?? String(err));
    }
  }

  private async json<T>(method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      let parsed: { message?: string; code?: string } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not an API error body; fall back to the raw text
      }
      throw cliErrors.api(res.statusCode, parsed.message ?? (text || 'no message'), parsed.code);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async findApp(name: string): Promise<App | undefined> {
    const list = await this.json<List<App>>('GET', `/v2/apps?name=${encodeURIComponent(name)}`);
    return list.items[0];
  }

  createApp(app: { name: string; config?: Record<string, string> }): Promise<App> {
    return this.json('POST', '/v2/apps', app);
  }

  async findFn(appId: string, name: string): Promise<Fn | undefined> {
    const list = await this.json<List<Fn>>('GET', `/v2/fns?app_id=${encodeURIComponent(appId)}&name=${encodeURIComponent(name)}`);
    return list.items[0];
  }

  createFn(fn: Omit<Fn, 'id'>): Promise<Fn> {
    return this.json('POST', '/v2/fns', fn);
  }

  updateFn(id: string, patch: Partial<Fn>): Promise<Fn> {
    return this.json('PUT', `/v2/fns/${encodeURIComponent(id)}`, patch);
  }

  /** Calls the function at its invoke endpoint; any status comes back as a result, not an error. */
  async invoke(url: string, body: Buffer, contentType: string): Promise<InvokeResult> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: 'POST', body, headers: { 'content-type': contentType } });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw cliErrors.serverUnreachable(this.baseUrl, e.code ?? e.message ?? String(err));
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  }
}
