// The thin socket adapter: an HTTP/1.1 server on the phony socket, made visible to
// the agent by a relative symlink only once it is listening (CONTRACT §1.3), and
// the translation between Node's request/response objects and call.ts.
import { chmod, lstat, readlink, symlink, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createConnection } from 'node:net';
import { finished, pipeline } from 'node:stream/promises';
import { errorResponse, type CallLog, type CallRequest, type CallResponse } from './call.js';
import { FdkListenError } from './errors.js';
import { CALL_METHOD, CALL_PATH, HEADER, STATUS, WARMUP_PATH } from '@fnts/api/contract';
import { MESSAGES } from './protocol.js';
import type { SocketPaths } from './settings.js';
import { discardRest, requestBodyStream } from './streams.js';

/** A running FDK server. */
export interface FdkServer {
  /** Stops serving at once (calls in flight are cut off) and removes the socket and its symlink. */
  close(): Promise<void>;
}

/**
 * Runs one call. `warmUp` marks a warm-up call (WARMUP_PATH), which the runner must give a handler of the FDK's own,
 * never the function. One runner for both, so the call path's optimized code never sees a second target here.
 */
export type CallRunner = (request: CallRequest, warmUp: boolean) => Promise<CallResponse>;

// Go's default request header limit, which the Fn server applies to its callers;
// Node's 16 KiB default would answer 431 to headers the agent legitimately forwards.
const MAX_HEADER_BYTES = 1024 * 1024;
const HEADERS_TIMEOUT_MS = 60_000;
/**
 * The requests the FDK sends itself as it publishes the socket. A fresh process's first call pays for lazy
 * compilation and first use of Node's HTTP server path and of the FDK's call path (measured: the first call of a new
 * container took 2–4× its second); paying it here keeps it off the first real call — which, for a container started
 * ahead of calls (a deploy, a fn's minimum), is all the time a caller sees.
 */
const WARMUP_BODY = '{"warm-up":true}';
/**
 * Sent as calls, pipelined on one connection, and run through the whole call path (headers, context, decoding,
 * encoding, the response) with a handler of the FDK's own, never the function: the first real call then finds that
 * code compiled. No Fn-Call-Id, so no log frame; a deadline far ahead.
 */
const warmupRequest = (last: boolean): string =>
  `${CALL_METHOD} ${WARMUP_PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${WARMUP_BODY.length}\r\nFn-Deadline: 2999-01-01T00:00:00.000Z\r\nConnection: ${last ? 'close' : 'keep-alive'}\r\n\r\n${WARMUP_BODY}`;
const WARMUP_CALLS = 5;
const WARMUP_REQUEST = Array.from({ length: WARMUP_CALLS }, (_, i) => warmupRequest(i === WARMUP_CALLS - 1)).join('');
const WARMUP_TIMEOUT_MS = 1000;

export interface ListenOptions {
  /** Hand the function the live body stream instead of the whole body. */
  readonly streamInput: boolean;
}

/** Listens on `paths.phonyPath`, then symlinks `paths.listenerPath` to it; resolves once the symlink exists. */
export async function listenOnSocket(
  paths: SocketPaths,
  runCall: CallRunner,
  log: CallLog,
  options: ListenOptions = { streamInput: false },
  /** Whether warm-up calls are served (the runner has the FDK's own handler for them); else that path is refused. */
  servesWarmUp = false,
): Promise<FdkServer> {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false }, (req, res) => {
    const warmUp = req.url === WARMUP_PATH;
    serveRequest(req, res, warmUp && !servesWarmUp ? undefined : runCall, warmUp, log, options).catch((error: unknown) => {
      log.error('fnts-fdk: unexpected error while serving a call:', error);
      res.destroy();
    });
  });
  // The agent owns the connection's lifetime: it may keep one open across calls
  // (and the container may be paused between them), so the FDK never closes an
  // idle connection itself and imposes no read or write timeout.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.timeout = 0;
  server.headersTimeout = HEADERS_TIMEOUT_MS;

  try {
    await removeIfPresent(paths.phonyPath);
    await removeIfPresent(paths.listenerPath);
    await listen(server, paths.phonyPath);
  } catch (error) {
    throw new FdkListenError(`cannot listen on ${paths.phonyPath}: ${String(error)}`, error);
  }
  try {
    await chmod(paths.phonyPath, 0o666);
    await symlink(paths.phonyName, paths.listenerPath);
  } catch (error) {
    await stop(server);
    await removeIfPresent(paths.phonyPath).catch(() => undefined);
    throw new FdkListenError(`cannot publish the socket as ${paths.listenerPath}: ${String(error)}`, error);
  }
  server.on('error', (error) => log.error('fnts-fdk: server error:', error));
  // After publishing, so the socket appears as early as before: the warm-up overlaps with the agent noticing the socket
  // and connecting, and a call that arrives first is served first.
  void warmUp(paths.phonyPath);

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        await removeOwnSymlink(paths);
        await stop(server);
        await removeIfPresent(paths.phonyPath);
      })()),
  };
}

async function serveRequest(
  req: IncomingMessage,
  res: ServerResponse,
  runCall: CallRunner | undefined,
  warmUp: boolean,
  log: CallLog,
  options: ListenOptions,
): Promise<void> {
  if (!runCall || req.method !== CALL_METHOD || (req.url !== CALL_PATH && req.url !== WARMUP_PATH)) {
    if (req.url !== WARMUP_PATH) log.error(`fnts-fdk: rejected ${String(req.method)} ${String(req.url)}, only ${CALL_METHOD} ${CALL_PATH} is served`);
    req.resume();
    await send(res, errorResponse(STATUS.badRequest, { message: MESSAGES.invalidMethod, detail: MESSAGES.badRequest }), log);
    return;
  }
  if (options.streamInput) {
    const body = requestBodyStream(req);
    try {
      await send(res, await runCall({ rawHeaders: req.rawHeaders, body }, warmUp), log);
    } finally {
      // Only now: a streamed result may still have been reading the body.
      discardRest(req, body);
    }
    return;
  }
  const body = await readBody(req);
  if (body === null) return; // the agent gave up mid-request; nobody is left to answer
  await send(res, await runCall({ rawHeaders: req.rawHeaders, body }, warmUp), log);
}

/** The whole body as one Buffer, so it is decoded once; null if the request was aborted. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return null;
  }
  return Buffer.concat(chunks);
}

/** Writes the response; resolves once it is finished or abandoned, never rejects. */
async function send(res: ServerResponse, response: CallResponse, log: CallLog): Promise<void> {
  const { stream } = response;
  if (res.destroyed || res.writableEnded) {
    stream?.cancel(); // late result of a cut-off call
    return;
  }
  const headers: Record<string, string[]> = Object.fromEntries(response.headers);
  if (stream === undefined) {
    headers[HEADER.contentLength] = [String(response.body.length)];
    res.writeHead(response.status, headers);
    res.end(response.body);
    // finished(), not end()'s callback, which never runs if the connection dies first.
    await finished(res).catch(() => undefined);
    return;
  }
  // No Content-Length: Node frames the body as chunked. If the stream fails,
  // pipeline destroys the response, so the agent sees the chunked body break off
  // instead of a clean end that would pass a truncated result as complete.
  res.writeHead(response.status, headers);
  try {
    await pipeline(stream.chunks, res);
  } catch (error) {
    log.error('fnts-fdk: writing a result stream failed, so the response was cut off:', error);
  }
}

/** Sends WARMUP_REQUEST to the server's own socket and reads the answer; never fails, bounded in time. */
function warmUp(path: string): Promise<void> {
  return new Promise((resolve) => {
    const conn = createConnection(path, () => conn.end(WARMUP_REQUEST));
    const done = () => {
      clearTimeout(timer);
      conn.destroy();
      resolve();
    };
    const timer = setTimeout(done, WARMUP_TIMEOUT_MS);
    conn.on('error', done);
    conn.on('close', done);
    conn.resume();
  });
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

// Only our own link: if something else now holds the name, it is not ours to delete.
async function removeOwnSymlink(paths: SocketPaths): Promise<void> {
  try {
    const stats = await lstat(paths.listenerPath);
    if (stats.isSymbolicLink() && (await readlink(paths.listenerPath)) === paths.phonyName) {
      await unlink(paths.listenerPath);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
