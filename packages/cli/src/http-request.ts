import type * as Http from 'node:http';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

/**
 * The CLI's HTTP requests, on node:http or node:https, loaded when the first request is sent (node:http cannot be
 * part of the CLI's startup snapshot). undici's `request` (what the client used before) costs more to load than the
 * rest of a command like `fnts list apps` takes to run; the client keeps undici's call shape:
 * `request(url, { method, body, headers, signal })` answering `{ statusCode, headers, body }`.
 */

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface RequestInit {
  method: HttpMethod;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Aborts the request, or the reading of its body. */
  signal?: AbortSignal;
}

/** The response body: a stream of the bytes as they arrive, or all of them at once. */
export type ResponseBody = Readable & {
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
};

export interface HttpResponse {
  statusCode: number;
  /** Lower-case names; a header sent more than once is an array of its values (as undici gives them). */
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
}

/** Collects a body to its end; an error or an early close (an abort) rejects. */
function readAll(res: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
    res.once('close', () => {
      if (!res.readableEnded) reject(Object.assign(new Error('the response ended before its body was complete'), { code: 'UND_ERR_SOCKET' }));
    });
  });
}

/** The body with its two collectors. */
function withCollectors(res: Readable): ResponseBody {
  return Object.assign(res, {
    text: async () => (await readAll(res)).toString('utf8'),
    arrayBuffer: async () => {
      const bytes = await readAll(res);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  });
}

function headersOf(res: IncomingMessage): HttpResponse['headers'] {
  const headers: HttpResponse['headers'] = {};
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const seen = headers[name];
    headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return headers;
}

/** Set only while the bin's startup snapshot is made (no socket may be used then): answers every request. */
let standIn: ((url: URL) => HttpResponse) | undefined;

/** Answers requests with `answer` instead of sending them, until called with undefined (cli-process.ts warmUpCli). */
export function answerRequestsWith(answer: ((url: URL) => HttpResponse) | undefined): void {
  standIn = answer;
}

/** A response whose body is `text`: for the stand-in above. */
export function textResponse(statusCode: number, contentType: string, text: string): HttpResponse {
  return { statusCode, headers: { 'content-type': contentType }, body: withCollectors(Readable.from([Buffer.from(text)])) };
}

/** Sends one request and answers once the response's headers have arrived; the body is read by the caller. */
export async function request(url: string, init: RequestInit): Promise<HttpResponse> {
  const target = new URL(url);
  if (standIn) return standIn(target);
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  // require, not import(): in the bin, an import() would start node's ES-module loader, which costs more than the rest.
  const send = (createRequire(import.meta.url)(target.protocol === 'http:' ? 'node:http' : 'node:https') as typeof Http).request;
  const options: RequestOptions = { method: init.method, headers, ...(init.signal ? { signal: init.signal } : {}) };
  return new Promise((resolve, reject) => {
    const req = send(target, options, (res: IncomingMessage) => {
      resolve({ statusCode: res.statusCode ?? 0, headers: headersOf(res), body: withCollectors(res) });
    });
    req.once('error', reject);
    req.end(init.body);
  });
}
