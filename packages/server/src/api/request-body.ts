import type { IncomingMessage } from 'node:http';
import { Readable, finished } from 'node:stream';
import { errors } from '../errors.js';

/** The settings that bound how a call's body is taken in (config.ts). */
export interface BodyLimits {
  readonly maxRequestBytes: number;
  readonly bodyReadTimeoutMs: number;
  readonly streamBodyThresholdBytes: number;
  readonly maxStreamingBodies: number;
}

const CLOSE = { Connection: 'close' };

/** What was read: every chunk, and whether the body ended (false: it stopped at the threshold). */
interface Prefix {
  chunks: Buffer[];
  size: number;
  ended: boolean;
}

/**
 * Reads until the body ends or more than `stopAfter` bytes arrived, under an absolute deadline. Past `max` it fails
 * with 413; past the deadline with 408. Both answers close the connection, so a slow or endless sender holds nothing.
 */
function readPrefix(stream: IncomingMessage, stopAfter: number, max: number, deadline: number, timeoutMs: number, start: Prefix): Promise<Prefix> {
  return new Promise((resolve, reject) => {
    const { chunks } = start;
    let size = start.size;
    const done = (err: Error | undefined, ended = false) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (err) {
        stream.resume(); // discarded until the response closes the connection
        reject(err);
        return;
      }
      if (!ended) stream.pause();
      resolve({ chunks, size, ended });
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return done(errors.payloadTooLarge(`request body is larger than the limit of ${max} bytes`, CLOSE));
      chunks.push(chunk);
      if (size > stopAfter) done(undefined);
    };
    const onEnd = () => done(undefined, true);
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(errors.bodyTimeout(timeoutMs)), Math.max(0, deadline - Date.now()));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    // A stream paused by an earlier read does not flow again just because a 'data' listener was added.
    stream.resume();
    if (stream.readableEnded) onEnd();
  });
}

function whole(p: Prefix): Buffer {
  return p.chunks.length === 1 ? (p.chunks[0] as Buffer) : Buffer.concat(p.chunks, p.size);
}

/**
 * Takes in a call's body before any container is taken (issue 12 §4): a body with a length is read whole under
 * the body-read deadline, so a slow sender gets 408 and never holds a container. Only an unsized (chunked) body
 * that passes the threshold streams through while the call runs, and only a few at a time server-wide; past
 * that cap it is read whole too.
 */
export class RequestBodyReader {
  private streaming = 0;

  constructor(private readonly limits: BodyLimits) {}

  /** Calls whose body is streaming into a container now. */
  get streamingNow(): number {
    return this.streaming;
  }

  /** The body: null when there is none, a Buffer when read whole, a stream when it flows on (destroy it when done). */
  async read(req: IncomingMessage): Promise<Readable | Buffer | null> {
    const { maxRequestBytes: max, bodyReadTimeoutMs: timeoutMs } = this.limits;
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > max) {
      throw errors.payloadTooLarge(`Content-Length too large for this server, ${length} > max ${max}`, CLOSE);
    }
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && length === 0) return null;
    if (!chunked) {
      // A small body usually came in the same read as its head: node has buffered all of it by the time the
      // request's own tick is over, so it is taken at once, with no listeners, timer or extra ticks.
      await undefined;
      if (req.readableLength === length && !req.readableFlowing) return req.read() as Buffer;
    }
    const deadline = Date.now() + timeoutMs;
    const empty: Prefix = { chunks: [], size: 0, ended: false };
    if (!chunked) return whole(await readPrefix(req, max, max, deadline, timeoutMs, empty));
    const prefix = await readPrefix(req, this.limits.streamBodyThresholdBytes, max, deadline, timeoutMs, empty);
    if (prefix.ended) return whole(prefix);
    if (this.streaming >= this.limits.maxStreamingBodies) {
      return whole(await readPrefix(req, max, max, deadline, timeoutMs, prefix));
    }
    this.streaming++;
    const body = Readable.from(rest(prefix.chunks, req), { objectMode: false });
    finished(body, () => this.streaming--);
    return body;
  }
}

async function* rest(prefix: Buffer[], stream: IncomingMessage): AsyncGenerator<Buffer> {
  yield* prefix;
  // Stopping early (the function answered first) must not destroy the request: its response is still to be sent.
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
}
