// The `ctx` object a function receives: facts about the call and the function,
// and the response headers it wants sent.
import {
  canonicalHeaderName,
  checkedResponseHeader,
  headerRecord,
  httpGatewayHeaders,
  type HeaderMap,
  type HeaderRecord,
} from './headers.js';
import { HEADER } from '@fnts/api/contract';
import { DEFAULT_RESPONSE_CONTENT_TYPE } from './protocol.js';
import type { FunctionInfo } from './settings.js';
import { readTracing, type Tracing } from './tracing.js';

/** What a function knows about its call. Header keys are matched case-insensitively. */
export interface Context {
  /** `Fn-Call-Id` of this call (`''` if absent). */
  readonly callId: string;
  /** When the platform gives up on the call (`Fn-Deadline`), or null without one. */
  readonly deadline: Date | null;
  /** Milliseconds left before the deadline, at least 0; Infinity without a deadline. */
  remainingMs(): number;
  readonly fnId: string;
  readonly appId: string;
  /** Set by fnts; undefined under the Fn server, which does not set it. */
  readonly fnName: string | undefined;
  /** Set by fnts; undefined under the Fn server, which does not set it. */
  readonly appName: string | undefined;
  /** Memory limit in MiB (`FN_MEMORY`), 0 if unknown. */
  readonly memory: number;
  /** The function's config (app config overlaid by fn config). */
  readonly config: Readonly<Record<string, string>>;
  getConfig(key: string): string | undefined;
  /** Request `Content-Type`, or null. */
  readonly contentType: string | null;
  /** A copy of the request headers, `{ Canonical-Name: [values] }`. */
  readonly headers: HeaderRecord;
  getHeader(key: string): string | null;
  getAllHeaderValues(key: string): string[];
  /** A copy of the response headers set so far. */
  readonly responseHeaders: HeaderRecord;
  /** Replaces a response header; no values removes it. On HTTP trigger calls it reaches the end user. */
  setResponseHeader(key: string, ...values: string[]): void;
  addResponseHeader(key: string, ...values: string[]): void;
  getResponseHeader(key: string): string | null;
  /** Response `Content-Type`; `application/json` unless changed; null removes it. */
  responseContentType: string | null;
  /** The end user's HTTP request and response on HTTP trigger calls. */
  readonly httpGateway: HttpGateway;
  /** The caller's B3 trace headers (plain, or `Fn-Http-H-X-B3-*` on trigger calls). */
  readonly tracing: Tracing;
}

/** The HTTP side of a trigger call; on other calls method and URL are null and headers empty. */
export interface HttpGateway {
  /** The end user's HTTP method (`Fn-Http-Method`). */
  readonly method: string | null;
  /** The end user's full request URL (`Fn-Http-Request-Url`). */
  readonly requestURL: string | null;
  /** The end user's request headers (`Fn-Http-H-*` with the prefix removed). */
  readonly headers: HeaderRecord;
  getHeader(key: string): string | null;
  getAllHeaderValues(key: string): string[];
  /** The status the end user gets (`Fn-Http-Status`); null leaves it at 200. */
  statusCode: number | null;
  setResponseHeader(key: string, ...values: string[]): void;
  addResponseHeader(key: string, ...values: string[]): void;
}

export interface CallContextInit {
  readonly function: FunctionInfo;
  readonly headers: HeaderMap;
  readonly deadline: Date | null;
  readonly now: () => number;
}

/** The Context of one call; the FDK reads the response headers back from it. */
export class CallContext implements Context {
  readonly #init: CallContextInit;
  readonly #responseHeaders: HeaderMap;
  #httpGateway: HttpGateway | undefined;
  #tracing: Tracing | undefined;

  /**
   * Given another CallContext, makes a second view of the same call that shares its
   * response headers, so a richer context (the batch context) can be built on the
   * one the FDK made and whatever the function sets on it is still sent.
   */
  constructor(init: CallContextInit | CallContext) {
    if (init instanceof CallContext) {
      this.#init = init.#init;
      this.#responseHeaders = init.#responseHeaders;
    } else {
      this.#init = init;
      this.#responseHeaders = new Map([[HEADER.contentType, [DEFAULT_RESPONSE_CONTENT_TYPE]]]);
    }
  }

  get callId(): string {
    return this.getHeader(HEADER.callId) ?? '';
  }
  get deadline(): Date | null {
    const { deadline } = this.#init;
    return deadline ? new Date(deadline.getTime()) : null;
  }
  remainingMs(): number {
    const { deadline, now } = this.#init;
    return deadline ? Math.max(0, deadline.getTime() - now()) : Infinity;
  }
  get fnId(): string {
    return this.#init.function.fnId;
  }
  get appId(): string {
    return this.#init.function.appId;
  }
  get fnName(): string | undefined {
    return this.#init.function.fnName;
  }
  get appName(): string | undefined {
    return this.#init.function.appName;
  }
  get memory(): number {
    return this.#init.function.memory;
  }
  get config(): Readonly<Record<string, string>> {
    return this.#init.function.config;
  }
  getConfig(key: string): string | undefined {
    const { config } = this.#init.function;
    return Object.hasOwn(config, key) ? config[key] : undefined;
  }

  get contentType(): string | null {
    return this.getHeader(HEADER.contentType);
  }
  get headers(): HeaderRecord {
    return headerRecord(this.#init.headers);
  }
  getHeader(key: string): string | null {
    return this.#init.headers.get(canonicalHeaderName(key))?.[0] ?? null;
  }
  getAllHeaderValues(key: string): string[] {
    return this.#init.headers.get(canonicalHeaderName(key))?.slice() ?? [];
  }

  get responseHeaders(): HeaderRecord {
    return headerRecord(this.#responseHeaders);
  }
  setResponseHeader(key: string, ...values: string[]): void {
    const [name, strings] = checkedResponseHeader(key, values);
    if (strings.length === 0) this.#responseHeaders.delete(name);
    else this.#responseHeaders.set(name, strings);
  }
  addResponseHeader(key: string, ...values: string[]): void {
    const [name, strings] = checkedResponseHeader(key, values);
    if (strings.length === 0) return;
    const existing = this.#responseHeaders.get(name);
    if (existing) existing.push(...strings);
    else this.#responseHeaders.set(name, strings);
  }
  getResponseHeader(key: string): string | null {
    return this.#responseHeaders.get(canonicalHeaderName(key))?.[0] ?? null;
  }
  get responseContentType(): string | null {
    return this.getResponseHeader(HEADER.contentType);
  }
  set responseContentType(contentType: string | null) {
    if (contentType === null || contentType === undefined) this.setResponseHeader(HEADER.contentType);
    else this.setResponseHeader(HEADER.contentType, contentType);
  }

  get httpGateway(): HttpGateway {
    this.#httpGateway ??= new HttpGatewayContext(this, httpGatewayHeaders(this.#init.headers));
    return this.#httpGateway;
  }
  get tracing(): Tracing {
    this.#tracing ??= readTracing(this.#init.headers, this.#init.function);
    return this.#tracing;
  }

  /** The response headers as set by the function (canonical names, before trigger prefixing). */
  pendingResponseHeaders(): HeaderMap {
    return this.#responseHeaders;
  }
}

/**
 * Response headers set here and on ctx are the same: the FDK prefixes them with
 * `Fn-Http-H-` on trigger calls when it writes the response, so code written for
 * either API works.
 */
class HttpGatewayContext implements HttpGateway {
  readonly #ctx: CallContext;
  readonly #headers: HeaderMap;

  constructor(ctx: CallContext, headers: HeaderMap) {
    this.#ctx = ctx;
    this.#headers = headers;
  }

  get method(): string | null {
    return this.#ctx.getHeader(HEADER.httpMethod);
  }
  get requestURL(): string | null {
    return this.#ctx.getHeader(HEADER.httpRequestUrl);
  }
  get headers(): HeaderRecord {
    return headerRecord(this.#headers);
  }
  getHeader(key: string): string | null {
    return this.#headers.get(canonicalHeaderName(key))?.[0] ?? null;
  }
  getAllHeaderValues(key: string): string[] {
    return this.#headers.get(canonicalHeaderName(key))?.slice() ?? [];
  }

  get statusCode(): number | null {
    const value = this.#ctx.getResponseHeader(HEADER.httpStatus);
    const status = value === null ? NaN : Number(value);
    return Number.isInteger(status) ? status : null;
  }
  set statusCode(status: number | null) {
    if (status === null || status === undefined) {
      this.#ctx.setResponseHeader(HEADER.httpStatus);
      return;
    }
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`httpGateway.statusCode must be an integer from 100 to 599, got ${String(status)}`);
    }
    this.#ctx.setResponseHeader(HEADER.httpStatus, String(status));
  }

  setResponseHeader(key: string, ...values: string[]): void {
    this.#ctx.setResponseHeader(key, ...values);
  }
  addResponseHeader(key: string, ...values: string[]): void {
    this.#ctx.addResponseHeader(key, ...values);
  }
}
