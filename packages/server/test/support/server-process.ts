import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { waitForListening } from '../../../../test/support/server-output.js';

const SERVER_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');

/** A real `fnts-server` process on a free loopback port with its own SQLite file in a temp dir. */
export interface ServerUnderTest {
  url: string;
  dir: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
}

/** One built server process per describe block, started before its tests and stopped (temp dir removed) after. */
export function useServerUnderTest(env: Record<string, string> = {}): ServerUnderTest {
  const sut = { url: '', dir: '', output: () => '' } as ServerUnderTest;
  beforeAll(async () => {
    sut.dir = await mkdtemp(join(tmpdir(), 'fnts-sut-'));
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: {
        ...process.env,
        FNTS_HOST: '127.0.0.1',
        FNTS_PORT: '0',
        FNTS_DB: join(sut.dir, 'fnts.db'),
        FNTS_IOFS_DIR: join(sut.dir, 'iofs'),
        FNTS_LOG_LEVEL: 'warn',
        // As buildTestServer (api.ts): no container the test did not ask for.
        FNTS_WARM_ON_DEPLOY: 'false',
        FNTS_STEM_CELLS: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    sut.child = child;
    const server = await waitForListening(child);
    sut.output = server.output;
    sut.url = server.url;
  });
  afterAll(async () => {
    const child = sut.child;
    if (child && child.exitCode === null) {
      await new Promise((done) => {
        child.once('exit', done);
        child.kill('SIGTERM');
      });
    }
    if (sut.dir) await rm(sut.dir, { recursive: true, force: true });
  });
  return sut;
}

/** What one raw HTTP exchange gave: status, headers and the body, parsed when it is JSON. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // The body of an API answer: a resource, a list or an error, checked field by field by the tests.
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are read ad hoc
}

/**
 * Sends one request exactly as given: a string body goes as is, an object as JSON, and headers are not added
 * to (the point is to replay what a particular client puts on the wire).
 */
export async function send(
  base: string,
  method: string,
  path: string,
  body?: string | object,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: payload !== undefined && typeof body === 'object' ? { 'content-type': 'application/json', ...headers } : headers,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}
