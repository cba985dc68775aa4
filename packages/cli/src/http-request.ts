import type * as Https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { HTTPParser } from 'http-parser-js';

/**
 * The CLI's HTTP requests. An `http:` URL goes over node:net, one connection per request, with the answer parsed by
 * http-parser-js: both are in the bin's V8 startup snapshot, compiled and warmed there by a real request
 * (cli-process.ts warmUpCli). node:http cannot be in a Node 20 snapshot, and loading and first running it costs more
 * than the rest of a command like `fnts list apps`. An `https:` URL goes through node:https, loaded when first needed.
 * Either way the call shape is undici's (what the client used first): `request(url, { method, body, headers, signal })`
 * answering `{ statusCode, headers, body }`.
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
      if (!res.readableEnded) reject(socketError('the response ended before its body was complete'));
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

/** Raw headers as names and values in turn, as both parsers give them, to a record with lower-case names. */
function headerRecord(raw: readonly string[]): HttpResponse['headers'] {
  const headers: HttpResponse['headers'] = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const seen = headers[name];
    headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return headers;
}

function socketError(message: string): Error {
  return Object.assign(new Error(message), { code: 'UND_ERR_SOCKET' });
}

function abortError(): Error {
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

/** Sends one request and answers once the response's headers have arrived; the body is read by the caller. */
export function request(url: string, init: RequestInit): Promise<HttpResponse> {
  const target = new URL(url);
  const headers: Record<string, string> = { ...init.headers };
  for (const [name, value] of Object.entries(headers)) {
    // What goes on the wire must not be able to start another header or request (a key pasted with its newline).
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      return Promise.reject(Object.assign(new Error(`the header ${JSON.stringify(name)} has a line break in its name or value`), { code: 'ERR_INVALID_CHAR' }));
    }
  }
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  if (target.protocol === 'http:') return sendPlain(target, init, headers);
  if (target.protocol === 'https:') return sendTls(target, init, headers);
  return Promise.reject(Object.assign(new Error(`${target.protocol} URLs are not supported: use http: or https:`), { code: 'ERR_INVALID_PROTOCOL' }));
}

/** An `http:` request on a connection of its own (closed after the answer), parsed by http-parser-js. */
function sendPlain(target: URL, init: RequestInit, headers: Record<string, string>): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal?.aborted) return reject(abortError());
    // URL keeps an IPv6 host in brackets, which connect() does not take.
    const socket = connect({ host: target.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(target.port || 80) });
    const parser = new HTTPParser(HTTPParser.RESPONSE);
    let body: Readable | undefined;
    let complete = false;
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      // Once the whole answer is in, what the connection does after (a reset while a long body was still being sent to
      // a server that had answered early) no longer matters.
      if (complete) return;
      if (body) body.destroy(err);
      else reject(err);
    };
    const onAbort = () => fail(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      // The body is read at the caller's pace: the socket pauses while the stream is full (a followed log).
      body = new Readable({ read: () => void socket.resume() });
      resolve({ statusCode: info.statusCode, headers: headerRecord(info.headers), body: withCollectors(body) });
      // An answer to HEAD announces a body it does not send.
      return init.method === 'HEAD' ? 1 : 0;
    };
    parser[HTTPParser.kOnBody] = (chunk, offset, length) => {
      if (body && !body.push(chunk.subarray(offset, offset + length))) socket.pause();
    };
    parser[HTTPParser.kOnMessageComplete] = () => {
      complete = true;
      signal?.removeEventListener('abort', onAbort);
      body?.push(null);
      // The whole answer is in: close at once rather than wait for the server to close its side (one that ignored
      // `connection: close` would keep the CLI's process alive until its keep-alive timeout).
      socket.destroy();
    };
    socket.on('data', (data: Buffer) => {
      if (complete) return;
      const parsed = parser.execute(data);
      if (parsed instanceof Error) fail(Object.assign(new Error(`the server's answer is not valid HTTP: ${parsed.message}`), { code: 'HPE_INVALID' }));
    });
    // A body that runs to the end of the connection ends with it; any other end before the answer is complete fails.
    socket.on('end', () => {
      if (!complete) parser.finish();
      if (!complete) fail(body ? socketError('the response ended before its body was complete') : Object.assign(new Error('the server closed the connection without answering'), { code: 'ECONNRESET' }));
    });
    socket.on('error', fail);
    const path = `${target.pathname}${target.search}`;
    let head = `${init.method} ${path} HTTP/1.1\r\nhost: ${target.host}\r\nconnection: close\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    socket.write(`${head}\r\n`);
    if (init.body !== undefined) socket.write(init.body);
  });
}

/** An `https:` request, through node:https (not in the snapshot: loaded by the first such request). */
function sendTls(target: URL, init: RequestInit, headers: Record<string, string>): Promise<HttpResponse> {
  // require, not import(): in the bin, an import() would start node's ES-module loader, which costs more than the rest.
  const https = createRequire(import.meta.url)('node:https') as typeof Https;
  return new Promise((resolve, reject) => {
    const req = https.request(target, { method: init.method, headers, ...(init.signal ? { signal: init.signal } : {}) }, (res: IncomingMessage) => {
      resolve({ statusCode: res.statusCode ?? 0, headers: headerRecord(res.rawHeaders), body: withCollectors(res) });
    });
    req.once('error', reject);
    req.end(init.body);
  });
}
