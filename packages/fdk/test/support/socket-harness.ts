// Runs the FDK on a real unix socket in a temp dir and talks to it with node:http,
// the way the agent does.
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, vi } from 'vitest';
import {
  serve,
  serveBatch,
  type BatchHandler,
  type BatchOptions,
  type FdkServer,
  type Handler,
  type HandleOptions,
} from '../../src/index.js';

export interface Harness {
  readonly dir: string;
  /** Path of `lsnr.sock`, the symlink the agent dials. */
  readonly socketPath: string;
  readonly server: FdkServer;
  call(options?: CallOptions): Promise<CallResult>;
  dispose(): Promise<void>;
}

export interface CallOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]>;
  /** Written as one chunk each, with a short pause between, so they arrive as separate reads. */
  chunks?: Array<string | Buffer>;
  body?: string | Buffer;
  agent?: Agent;
}

export interface CallResult {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
  /** The client socket that carried the call; the same object means the connection was reused. */
  socket: Socket;
}

/** Creates a temp dir and serves `fn` on `<dir>/lsnr.sock` with the given env. */
export function startHarness(
  fn: Handler<never, unknown>,
  env: Record<string, string> = {},
  options: Omit<HandleOptions, 'env' | 'listener'> = {},
): Promise<Harness> {
  return startWith((where) => serve(fn, { ...options, ...where }), env);
}

/** Like startHarness, for a batch function served by serveBatch. */
export function startBatchHarness<V = Buffer>(
  fn: BatchHandler<V>,
  env: Record<string, string> = {},
  options: Omit<BatchOptions, 'env' | 'listener'> = {},
): Promise<Harness> {
  return startWith((where) => serveBatch(fn, { ...options, ...where }), env);
}

type ServeAt = (where: { listener: string; env: NodeJS.ProcessEnv }) => Promise<FdkServer>;

async function startWith(serveAt: ServeAt, env: Record<string, string>): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'fnts-fdk-'));
  const socketPath = join(dir, 'lsnr.sock');
  let server: FdkServer;
  try {
    server = await serveAt({ listener: `unix:${socketPath}`, env: { FN_FORMAT: 'http-stream', ...env } });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    socketPath,
    server,
    call: (callOptions) => callSocket(socketPath, callOptions),
    dispose: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers an afterEach that disposes every harness started through the returned
 * function (and restores spies), so each test leaves no server or temp dir behind.
 */
export function harnessPerTest(): typeof startHarness {
  const track = disposeAfterEach();
  return async (...args) => track(await startHarness(...args));
}

/** harnessPerTest for batch functions. */
export function batchHarnessPerTest(): typeof startBatchHarness {
  const track = disposeAfterEach();
  return async (...args) => track(await startBatchHarness(...args));
}

function disposeAfterEach(): (harness: Harness) => Harness {
  const live: Harness[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(live.splice(0).map((harness) => harness.dispose()));
  });
  return (harness) => {
    live.push(harness);
    return harness;
  };
}

/** One HTTP request over the unix socket. */
export function callSocket(socketPath: string, options: CallOptions = {}): Promise<CallResult> {
  const { method = 'POST', path = '/call', headers = {}, agent } = options;
  return new Promise((resolve, reject) => {
    let socket: Socket | undefined;
    const req = request({ socketPath, method, path, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body,
          text: body.toString('utf8'),
          socket: socket ?? res.socket,
        });
      });
    });
    req.on('socket', (s) => (socket = s));
    req.on('error', reject);
    void writeBody(req, options).catch(reject);
  });
}

async function writeBody(req: ReturnType<typeof request>, options: CallOptions): Promise<void> {
  if (options.chunks) {
    for (const [index, chunk] of options.chunks.entries()) {
      if (index > 0) await new Promise((resolve) => setTimeout(resolve, 30));
      req.write(chunk);
    }
    req.end();
  } else {
    req.end(options.body);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
