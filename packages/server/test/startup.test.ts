import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger, logTarget } from '../src/logging.js';
import { startServer } from '../src/server.js';
import { dockerFailure, listenFailure, StartupError, storeFailure } from '../src/startup-errors.js';
import { duplicateTopLevelKeys } from './support/log-lines.js';

/** startServer refusing the operator's mistakes with typed errors (the CLI prints them), and where the log goes. */
let dir: string;
let held: Server | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fnts-startup-'));
});
afterEach(async () => {
  await new Promise((done) => (held ? held.close(done) : done(undefined)));
  held = undefined;
  await rm(dir, { recursive: true, force: true });
});

const config = (env: Record<string, string>) =>
  loadConfig({ FNTS_HOST: '127.0.0.1', FNTS_PORT: '0', FNTS_DB: join(dir, 'fnts.db'), FNTS_IOFS_DIR: join(dir, 'iofs'), FNTS_LOG_LEVEL: 'silent', ...env });

describe('startServer: the operator\'s mistakes', () => {
  it('a busy port is a StartupError with its code, before the store is opened', async () => {
    held = createServer();
    await new Promise<void>((done) => held?.listen(0, '127.0.0.1', done));
    const port = (held.address() as AddressInfo).port;
    const refused = await startServer(config({ FNTS_PORT: String(port) }), { handleSignals: false }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(StartupError);
    expect(refused).toMatchObject({ code: 'FNTS_ERR_START_PORT_IN_USE', message: `port ${port} on 127.0.0.1 is already in use` });
    await expect(stat(join(dir, 'fnts.db'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a database path that is a folder is a StartupError naming the path', async () => {
    await mkdir(join(dir, 'a-folder'));
    const refused = await startServer(config({ FNTS_DB: join(dir, 'a-folder') }), { handleSignals: false }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(StartupError);
    expect(refused).toMatchObject({ code: 'FNTS_ERR_START_DB', message: expect.stringContaining('a-folder') as string });
  });

  it('Docker not answering is a StartupError saying where it looked', async () => {
    const socket = join(dir, 'docker.sock');
    const refused = await startServer(config({ DOCKER_HOST: `unix://${socket}` }), { handleSignals: false }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(StartupError);
    expect(refused).toMatchObject({ code: 'FNTS_ERR_START_DOCKER', message: `Docker is not answering at ${socket} (ENOENT)` });
  });
});

describe('errno to StartupError (the cases a root test run cannot cause)', () => {
  const errno = (code: string) => Object.assign(new Error(`x ${code}`), { code });

  it('maps what the operator can fix, and passes anything else through unchanged', () => {
    expect(listenFailure(errno('EACCES'), '127.0.0.1', 80)).toMatchObject({
      code: 'FNTS_ERR_START_PORT_DENIED', message: 'not allowed to listen on 127.0.0.1:80 (EACCES)', hint: expect.stringContaining('CAP_NET_BIND_SERVICE') as string,
    });
    expect(storeFailure(errno('EACCES'), '/srv/fnts.db')).toMatchObject({ code: 'FNTS_ERR_START_DB', message: 'cannot open the database /srv/fnts.db: permission denied' });
    expect(storeFailure(errno('SQLITE_READONLY'), '/srv/fnts.db')).toMatchObject({ code: 'FNTS_ERR_START_DB' });
    expect(dockerFailure(errno('EACCES'), '/var/run/docker.sock')).toMatchObject({
      code: 'FNTS_ERR_START_DOCKER', hint: expect.stringContaining('docker group') as string,
    });
    expect(dockerFailure(errno('ECONNREFUSED'), '/var/run/docker.sock')).toMatchObject({ message: 'Docker is not answering at /var/run/docker.sock (ECONNREFUSED)' });
    const bug = new TypeError('a bug');
    expect(listenFailure(bug, 'h', 1)).toBe(bug);
    expect(storeFailure(bug, 'p')).toBe(bug);
    expect(dockerFailure(errno('EPIPE'), 's')).toBeInstanceOf(Error);
    expect(dockerFailure(errno('EPIPE'), 's')).not.toBeInstanceOf(StartupError);
  });
});

describe('logs', () => {
  it('go to the file when one is given, else pretty on a terminal (auto) or when asked, else JSON', () => {
    expect(logTarget({ logFile: '/x.log', logFormat: 'pretty' }, true)).toEqual({ kind: 'file', path: '/x.log' });
    expect(logTarget({ logFile: undefined, logFormat: 'auto' }, true)).toEqual({ kind: 'pretty', colors: true });
    expect(logTarget({ logFile: undefined, logFormat: 'auto' }, false)).toEqual({ kind: 'json' });
    expect(logTarget({ logFile: undefined, logFormat: 'pretty' }, false)).toEqual({ kind: 'pretty', colors: false });
    expect(logTarget({ logFile: undefined, logFormat: 'json' }, true)).toEqual({ kind: 'json' });
  });

  it('a log file gets JSON lines, each key once, child bindings included', async () => {
    const file = join(dir, 'logs', 'server.log');
    const log = await createLogger({ logFile: file, logFormat: 'auto', logLevel: 'info' }, true);
    log.child({ component: 'streams' }).child({ partition: 3 }).info({ batch: 'b1' }, 'batch finished');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ component: 'streams', partition: 3, batch: 'b1', msg: 'batch finished' });
    expect(duplicateTopLevelKeys(lines[0] as string)).toEqual([]);
  });
});
