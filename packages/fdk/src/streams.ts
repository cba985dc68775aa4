// Streams in both directions: the request body handed to a `stream`-mode function,
// and a function's stream result on its way to the response.
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import type { StreamSource } from './result.js';

/**
 * The request body as its own stream. The function gets a PassThrough rather than
 * the IncomingMessage, so destroying or abandoning it cannot kill the connection the
 * agent may reuse; `discardRest` later empties the request whatever the function did.
 */
export function requestBodyStream(req: IncomingMessage): PassThrough {
  const body = new PassThrough();
  // Without a listener an 'error' on an ignored body would crash the process; a
  // function that reads the body still sees the error through its own listener.
  body.on('error', () => undefined);
  req.once('error', (error) => body.destroy(error));
  req.once('close', () => {
    if (!req.complete) body.destroy(new Error('the request was aborted before its body ended'));
  });
  req.pipe(body);
  return body;
}

/**
 * Reads and drops what is left of the request once the response is written, so the
 * next call on a keep-alive connection is parsed; Node only does this itself when
 * nobody ever read the body.
 */
export function discardRest(req: IncomingMessage, body: PassThrough): void {
  req.unpipe(body);
  body.destroy();
  req.resume();
}

/** A result stream whose first chunk has arrived, so a stream that fails at once can still get a clean 502. */
export interface OpenedStream {
  /** Every chunk, the first one included; each is a string or bytes. */
  readonly chunks: AsyncIterable<string | Uint8Array>;
  /** Stops the source when nobody will read the rest (timeout, failed write). */
  cancel(): void;
}

type Chunk = string | Uint8Array;

/** Waits for the first chunk (or the end); rejects if the stream fails or yields something that is not text or bytes. */
export async function openStream(source: StreamSource): Promise<OpenedStream> {
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const cancel = (): void => cancelSource(source, iterator);
  let first: IteratorResult<unknown>;
  try {
    first = await iterator.next();
    if (!first.done) checkChunk(first.value);
  } catch (error) {
    cancel();
    throw error;
  }
  return { chunks: remaining(first, iterator, cancel), cancel };
}

async function* remaining(
  first: IteratorResult<unknown>,
  iterator: AsyncIterator<unknown>,
  cancel: () => void,
): AsyncGenerator<Chunk> {
  let ended = first.done === true;
  try {
    if (ended) return;
    yield first.value as Chunk;
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        return;
      }
      yield checkChunk(next.value);
    }
  } finally {
    // The response went away or a chunk was bad: release the source's resources.
    if (!ended) cancel();
  }
}

function checkChunk(value: unknown): Chunk {
  if (typeof value === 'string' || value instanceof Uint8Array) return value;
  throw new TypeError(`a result stream must yield strings or bytes, got ${value === null ? 'null' : typeof value}`);
}

function cancelSource(source: StreamSource, iterator: AsyncIterator<unknown>): void {
  if (source instanceof Readable) {
    source.destroy();
    return;
  }
  // Not awaited: a stalled iterator would never answer, and nothing waits for it.
  iterator.return?.().catch(() => undefined);
}
