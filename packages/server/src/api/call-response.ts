import type { ServerResponse } from 'node:http';
import { finished, type Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { HeaderMap } from '../agent/http-headers.js';
import { errors, isFntsError } from '../errors.js';

/**
 * Answers of the call path, written on node's own response (api/call-endpoint.ts): the same statuses, headers and
 * bodies fastify's reply and error handler (error-handler.ts) give, without a reply object per call.
 */

const JSON_TYPE = 'application/json; charset=utf-8';
const OCTET = 'application/octet-stream';

/** Reads a whole body, failing with 413 past the limit (events, not an async iterator: this is the hot path). */
export function readAll(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
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
    stream.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    stream.once('error', reject);
  });
}

/** Whether a status carries no body (RFC 9110 §8.6): no Content-Type or Content-Length goes with it. */
function bodiless(status: number): boolean {
  return status < 200 || status === 204;
}

/** A whole answer in one write: headers (a Content-Type default and the true length added) and the body. */
export function sendBuffer(res: ServerResponse, status: number, headers: HeaderMap, body: Buffer): void {
  if (bodiless(status)) {
    delete headers['content-type'];
    delete headers['Content-Type'];
    delete headers['content-length'];
    delete headers['Content-Length'];
    res.writeHead(status, headers);
    res.end();
    return;
  }
  if (headers['content-type'] === undefined && headers['Content-Type'] === undefined) headers['content-type'] = OCTET;
  delete headers['Content-Length'];
  headers['content-length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * A streamed answer. A body that fails before anything was sent is answered as an error; after, the connection
 * is cut so the client sees a truncated answer, not a complete one. A client that goes away stops the body.
 */
export function sendStream(res: ServerResponse, status: number, headers: HeaderMap, body: Readable, callId: string, log: Logger): void {
  if (headers['content-type'] === undefined && headers['Content-Type'] === undefined) headers['content-type'] = OCTET;
  for (const name in headers) res.setHeader(name, headers[name] as string | string[]);
  res.statusCode = status;
  finished(body, (err) => {
    if (!err) return;
    if (res.headersSent) res.destroy();
    else answerError(res, err, callId, log);
  });
  finished(res, () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(res);
}

/** An empty answer with the call's id (a detached call's 202). */
export function sendEmpty(res: ServerResponse, status: number, callIdHeader: string, callId: string): void {
  res.writeHead(status, { [callIdHeader]: callId, 'content-length': '0' });
  res.end();
}

/**
 * The call path's one mapping from a thrown error to an answer, as error-handler.ts maps them for the API: platform
 * errors carry their status, code and headers; anything else is a fault of the server, logged and answered 500.
 * A call's failure names the call (its Fn-Call-Id, once it has one), so its record and output are found.
 */
export function answerError(res: ServerResponse, err: unknown, callId: string | undefined, log: Logger): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  let status: number;
  let body: Record<string, unknown>;
  let headers: Readonly<Record<string, string>> = {};
  if (isFntsError(err)) {
    status = err.status;
    headers = err.headers;
    body = { message: err.message, code: err.code };
    if (err.detail !== undefined) body.detail = err.detail;
  } else {
    log.error({ err, ...(callId === undefined ? {} : { call_id: callId }) }, 'unhandled error');
    const internal = errors.internal();
    status = internal.status;
    body = { message: internal.message, code: internal.code };
  }
  if (callId !== undefined) {
    body.call_id = callId;
    res.setHeader('fn-call-id', callId);
  }
  for (const name in headers) res.setHeader(name, headers[name] as string);
  const text = JSON.stringify(body);
  res.setHeader('content-type', JSON_TYPE);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.statusCode = status;
  res.end(text);
}
