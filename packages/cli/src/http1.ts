import { connect } from 'node:net';
import { PassThrough } from 'node:stream';

/**
 * A small HTTP/1.1 client on node:net, for the CLI's requests to http:// servers. Loading and first using node:http
 * costs more than the rest of a command like `fnts list apps`, and node:http (unlike node:net) cannot be kept in the
 * bin's V8 startup snapshot. The CLI needs little of it: one request per connection (`Connection: close`), a body of
 * known length, and a response framed by Content-Length, chunked encoding or the end of the connection.
 */

export interface Http1Request {
  method: string;
  /** Lower-case names; content-length is the caller's to set when there is a body. */
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Aborts the request, or the reading of its body. */
  signal?: AbortSignal;
}

export interface Http1Response {
  statusCode: number;
  /** Lower-case names; a header sent more than once is an array of its values. */
  headers: Record<string, string | string[] | undefined>;
  /** The body's bytes as they arrive; it fails (code UND_ERR_SOCKET) when the connection ends before the body does. */
  body: PassThrough;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** A response head larger than node:http's default limit is not an fnts server's. */
const MAX_HEAD_BYTES = 16 * 1024;

const protocolError = (message: string) => Object.assign(new Error(`bad HTTP response: ${message}`), { code: 'HPE_INVALID' });
const abortError = () => Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });

function parseHead(head: string): { statusCode: number; headers: Http1Response['headers'] } {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (!status) throw protocolError(`status line ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Http1Response['headers'] = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw protocolError(`header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const seen = headers[name];
    headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return { statusCode: Number(status[1]), headers };
}

/** How the body ends: after `length` bytes, after the last chunk, or when the connection closes. */
type Framing = { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' };

function framingOf(method: string, statusCode: number, headers: Http1Response['headers']): Framing {
  if (method === 'HEAD' || statusCode === 204 || statusCode === 304) return { kind: 'length', remaining: 0 };
  const te = headers['transfer-encoding'];
  if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(Array.isArray(te) ? te.join(',') : te)) return { kind: 'chunked' };
  const cl = headers['content-length'];
  if (cl !== undefined) {
    const length = Number(Array.isArray(cl) ? cl[0] : cl);
    if (!Number.isSafeInteger(length) || length < 0) throw protocolError(`content-length ${String(cl)}`);
    return { kind: 'length', remaining: length };
  }
  return { kind: 'close' };
}

/** Decodes a chunked body fed in pieces; `push` gets the data, and `feed` answers true after the last chunk. */
function chunkedDecoder(push: (data: Buffer) => void): (data: Buffer) => boolean {
  let pending: Buffer = Buffer.alloc(0);
  let state: 'size' | 'data' | 'data-end' | 'trailers' = 'size';
  let remaining = 0;
  return (data) => {
    pending = pending.length ? Buffer.concat([pending, data]) : data;
    for (;;) {
      if (state === 'data') {
        if (pending.length === 0) return false;
        const take = Math.min(remaining, pending.length);
        push(pending.subarray(0, take));
        pending = pending.subarray(take);
        remaining -= take;
        if (remaining === 0) state = 'data-end';
        continue;
      }
      const eol = pending.indexOf(CRLF);
      if (eol < 0) {
        if (pending.length > MAX_HEAD_BYTES) throw protocolError('chunk line too long');
        return false;
      }
      const line = pending.subarray(0, eol).toString('latin1');
      pending = pending.subarray(eol + 2);
      if (state === 'data-end') {
        if (line !== '') throw protocolError('chunk not followed by CRLF');
        state = 'size';
      } else if (state === 'size') {
        const size = /^([0-9a-fA-F]{1,12})\s*(?:;.*)?$/.exec(line);
        if (!size) throw protocolError(`chunk size ${JSON.stringify(line.slice(0, 40))}`);
        remaining = parseInt(size[1] as string, 16);
        state = remaining === 0 ? 'trailers' : 'data';
      } else if (line === '') {
        return true; // the empty line after the trailers (if any) ends the body
      }
    }
  };
}

/** Sends one request and answers once the response's head has arrived; the body is read by the caller. */
export function http1Request(url: URL, init: Http1Request): Promise<Http1Response> {
  for (const [name, value] of Object.entries(init.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      return Promise.reject(Object.assign(new TypeError(`invalid character in header ${JSON.stringify(name)}`), { code: 'ERR_INVALID_CHAR' }));
    }
  }
  if (init.signal?.aborted) return Promise.reject(abortError());
  const head = [`${init.method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`,
    ...Object.entries(init.headers).map(([k, v]) => `${k}: ${v}`), 'connection: close', '', ''].join('\r\n');

  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80) });
    const body = new PassThrough();
    let response: Http1Response | undefined;
    let framing: Framing | undefined;
    let decodeChunked: ((data: Buffer) => boolean) | undefined;
    let received: Buffer = Buffer.alloc(0);
    let done = false;

    const fail = (err: Error) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (response) body.destroy(err);
      else reject(err);
    };
    const finish = () => {
      done = true;
      body.end();
      socket.destroy();
    };
    const onAbort = () => fail(abortError());
    init.signal?.addEventListener('abort', onAbort, { once: true });
    const release = () => init.signal?.removeEventListener('abort', onAbort);
    body.once('close', release);

    const onBody = (data: Buffer) => {
      if (!framing) return;
      if (framing.kind === 'close') {
        body.write(data);
      } else if (framing.kind === 'length') {
        const take = data.subarray(0, framing.remaining);
        framing.remaining -= take.length;
        if (take.length) body.write(take);
        if (framing.remaining === 0) finish();
      } else if ((decodeChunked ??= chunkedDecoder((d) => void body.write(d)))(data)) {
        finish();
      }
    };

    socket.on('data', (data: Buffer) => {
      if (done) return;
      try {
        if (response) return onBody(data);
        received = received.length ? Buffer.concat([received, data]) : data;
        for (;;) {
          const end = received.indexOf(HEAD_END);
          if (end < 0) {
            if (received.length > MAX_HEAD_BYTES) throw protocolError('head too large');
            return;
          }
          const { statusCode, headers } = parseHead(received.subarray(0, end).toString('latin1'));
          received = received.subarray(end + HEAD_END.length);
          // An interim answer (100 Continue, 103 Early Hints) is followed by the real one.
          if (statusCode >= 100 && statusCode < 200) continue;
          framing = framingOf(init.method, statusCode, headers);
          response = { statusCode, headers, body };
          resolve(response);
          if (framing.kind === 'length' && framing.remaining === 0) return finish();
          if (received.length) onBody(received);
          return;
        }
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.on('error', (err) => fail(err));
    socket.once('close', () => {
      if (done) return;
      if (response && framing?.kind === 'close') finish();
      else if (response) fail(Object.assign(new Error('the response ended before its body was complete'), { code: 'UND_ERR_SOCKET' }));
      else fail(Object.assign(new Error('the server closed the connection without answering'), { code: 'ECONNRESET' }));
    });
    socket.write(head);
    if (init.body !== undefined) socket.write(init.body);
  });
}
