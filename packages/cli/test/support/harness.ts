import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, loadConfig } from '@fnts/server';
import { afterEach, beforeEach } from 'vitest';
import type { CommandContext } from '../../src/commands/command-context.js';
import type { CliSettings } from '../../src/settings.js';

/** A command context whose output is kept in strings, so tests read what a user would see. */
export interface Captured {
  ctx: CommandContext;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Forgets the output so far (between the steps of one test). */
  clear(): void;
}

export function captureContext(apiUrl: string, cwd = process.cwd(), settings: Partial<CliSettings> = {}): Captured {
  let out = '';
  let info = '';
  return {
    ctx: {
      cwd,
      output: { out: (t) => void (out += t), info: (t) => void (info += t) },
      settings: {
        apiUrl,
        context: 'default',
        contextSource: 'default',
        // Tests never read or write the real ~/.fnts.
        homeDir: join(tmpdir(), 'fnts-cli-test-no-home'),
        dockerSocketPath: process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock',
        imageLabels: {},
        ...settings,
      },
    },
    stdout: () => out,
    stderr: () => info,
    clear: () => {
      out = '';
      info = '';
    },
  };
}

export interface TestServer {
  url: string;
  /** `METHOD /path?query` of every request the server has received in this test, in order. */
  requests: string[];
  /** A fresh captured context pointed at this server. */
  cli(cwd?: string, settings?: Partial<CliSettings>): Captured;
}

/**
 * A real fnts server in this process, on a free loopback port with an in-memory store, fresh for each test.
 * The returned object is filled in before every test.
 */
export function serverPerTest(): TestServer {
  const server: TestServer = { url: '', requests: [], cli: (cwd, settings) => captureContext(server.url, cwd, settings) };
  let close: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const app = await buildApp({ config: loadConfig({ FNTS_DB: ':memory:', FNTS_LOG_LEVEL: 'silent' }) });
    // What a command has done so far, seen from the server: a test can wait for that instead of sleeping.
    const requests: string[] = (server.requests = []);
    app.addHook('onRequest', async (req) => {
      requests.push(`${req.method} ${req.url}`);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    server.url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    close = () => app.close();
  });
  afterEach(async () => {
    await close?.();
    close = undefined;
  });
  return server;
}

/** A temporary directory, removed after the test. */
export function tempDirPerTest(): { path: string } {
  const dir = { path: '' };
  beforeEach(async () => {
    dir.path = await mkdtemp(join(tmpdir(), 'fnts-cli-test-'));
  });
  afterEach(async () => {
    await rm(dir.path, { recursive: true, force: true });
  });
  return dir;
}
