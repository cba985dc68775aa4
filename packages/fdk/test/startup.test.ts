// Startup: the socket dance (CONTRACT §1.3) and the checks on the environment.
import { lstat, mkdtemp, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FdkConfigError, FdkListenError, handle, serve } from '../src/index.js';
import { callSocket, harnessPerTest } from './support/socket-harness.js';

const start = harnessPerTest();

async function withTempDir(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fnts-fdk-startup-'));
  try {
    await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('socket', () => {
  it('publishes lsnr.sock as a relative symlink to a 0666 socket in the same dir', async () => {
    const h = await start(() => 'ok');
    const link = await lstat(h.socketPath);
    expect(link.isSymbolicLink()).toBe(true);
    expect(await readlink(h.socketPath)).toBe('lsnr.sock.tmp');
    const target = await stat(h.socketPath);
    expect(target.isSocket()).toBe(true);
    expect(target.mode & 0o777).toBe(0o666);
  });

  it('replaces stale socket files left in the directory', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'lsnr.sock.tmp'), 'stale');
      await symlink('gone.sock', join(dir, 'lsnr.sock'));
      const server = await serve(() => 'fresh', { listener: `unix:${dir}/lsnr.sock`, env: {} });
      try {
        expect((await callSocket(join(dir, 'lsnr.sock'), { body: '' })).text).toBe('"fresh"');
      } finally {
        await server.close();
      }
    });
  });

  it('creates the symlink only once the socket accepts connections', async () => {
    await withTempDir(async (dir) => {
      const listenerPath = join(dir, 'lsnr.sock');
      // Poll like an eager agent: the first time the name exists, a call must succeed.
      const starting = serve(() => 'ready', { listener: `unix:${listenerPath}`, env: {} });
      let seen = false;
      while (!seen) seen = await lstat(listenerPath).then(() => true, () => false);
      const res = await callSocket(listenerPath, { body: '' });
      expect(res.text).toBe('"ready"');
      await (await starting).close();
    });
  });

  it('removes the symlink and the phony socket on close', async () => {
    const h = await start(() => 'ok');
    await h.server.close();
    await expect(lstat(h.socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(`${h.socketPath}.tmp`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('bad environment', () => {
  const fn = () => 'never';

  it.each([
    ['FN_LISTENER is missing', {}, undefined, /FN_LISTENER is not set/],
    ['FN_LISTENER is not unix:', { FN_LISTENER: 'tcp://localhost:80' }, undefined, /must start with 'unix:'/],
    ['FN_LISTENER names no file', { FN_LISTENER: 'unix:' }, undefined, /must name a socket file/],
    ['FN_FORMAT is another format', { FN_FORMAT: 'json', FN_LISTENER: 'unix:/tmp/x.sock' }, undefined, /FN_FORMAT is 'json'/],
    ['the socket path is too long', {}, `unix:/tmp/${'s'.repeat(100)}`, /bytes, the limit is 107/],
  ])('rejects when %s', async (_case, env, listener, message) => {
    const error: unknown = await serve(fn, { env, listener }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FdkConfigError);
    expect(error).toMatchObject({ code: 'FNTS_ERR_FDK_CONFIG_INVALID' });
    expect((error as Error).message).toMatch(message);
  });

  it('reports every problem at once', async () => {
    const options = { env: { FN_FORMAT: 'default' }, inputMode: 'xml' as never };
    const error = (await serve(fn, options).catch((e: unknown) => e)) as FdkConfigError;
    expect(error.problems).toHaveLength(3);
  });

  it('accepts FN_FORMAT in any case, or unset', async () => {
    for (const format of ['HTTP-Stream', undefined]) {
      const h = await start(() => format ?? 'unset', format === undefined ? {} : { FN_FORMAT: format });
      expect((await h.call({ body: '' })).status).toBe(200);
    }
  });

  it('rejects with FdkListenError when the socket directory does not exist', async () => {
    const error: unknown = await serve(fn, { env: {}, listener: 'unix:/nonexistent-fnts-dir/lsnr.sock' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FdkListenError);
    expect(error).toMatchObject({ code: 'FNTS_ERR_FDK_LISTEN_FAILED' });
  });
});

describe('handle', () => {
  class Exited extends Error {}

  it('logs why and exits with code 2 on a bad environment', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
      throw new Exited();
    });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(() => handle(() => 'never', { env: { FN_LISTENER: 'tcp:8080' } })).toThrow(Exited);
    expect(exit).toHaveBeenCalledWith(2);
    expect(errors).toHaveBeenCalledWith(expect.stringMatching(/^fnts-fdk: invalid FDK configuration: FN_LISTENER/));
  });

  it('exits with code 3 when the socket cannot be created', async () => {
    const exited = new Promise<unknown>((resolve) => {
      vi.spyOn(process, 'exit').mockImplementation((code) => {
        resolve(code);
        return undefined as never;
      });
    });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    handle(() => 'never', { env: {}, listener: 'unix:/nonexistent-fnts-dir/lsnr.sock' });
    expect(await exited).toBe(3);
  });

  it('serves like serve() when the environment is good', async () => {
    await withTempDir(async (dir) => {
      const server = handle((input: string) => input.length, { env: { FN_LISTENER: `unix:${dir}/lsnr.sock` } });
      await vi.waitFor(() => lstat(join(dir, 'lsnr.sock')));
      expect((await callSocket(join(dir, 'lsnr.sock'), { body: '"four"' })).text).toBe('4');
      await server.close();
    });
  });
});
