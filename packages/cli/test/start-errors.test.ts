// `fnts start` as an operator meets it, through the built bin as a real process: a busy port, a database or log file
// that cannot be opened, Docker not answering and bad values each end in one `Error:` line and a hint, exit 1, no
// stack; --log-file keeps the terminal to the startup line. Also `fnts` alone, --version and `fnts version`.
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_MAX_REQUEST_BYTES, formatByteLimit, FN_SETTING_LIMITS } from '@fnts/api/limits';
import { loadConfig } from '@fnts/server';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_VERSION } from '../src/version.js';
import { serverPerTest, tempDirPerTest } from './support/harness.js';

// The bundle the bin runs (node runs it as some other user below; bin.test.ts runs the bin's launcher itself).
const BIN = fileURLToPath(new URL('../dist/bin/fnts.cjs', import.meta.url));
const tmp = tempDirPerTest();

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin to its end (every case here exits on its own, within the timeout). */
function fnts(args: string[], env: Record<string, string> = {}, as?: { uid: number; gid: number }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        FNTS_HOME: join(tmp.path, 'home'),
        FNTS_IOFS_DIR: join(tmp.path, 'iofs'),
        ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...as,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fnts ${args.join(' ')} did not exit in 20 s:\n${stdout}${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The operator's-mistake shape: exit 1, nothing on stdout, one Error line, one Hint line, no stack. */
function expectOneLineError(ran: Ran, message: RegExp, hint: RegExp): void {
  expect(ran.code, ran.stderr).toBe(1);
  expect(ran.stdout).toBe('');
  const lines = ran.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^Error: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^Hint: /);
  expect(lines[1]).toMatch(hint);
  expect(ran.stderr).not.toMatch(/crashed|\n\s+at /);
}

let occupied: Server | undefined;
afterEach(async () => {
  await new Promise((done) => (occupied ? occupied.close(done) : done(undefined)));
  occupied = undefined;
});

/** A port some other program holds on 127.0.0.1. */
async function occupyPort(): Promise<number> {
  occupied = createServer();
  await new Promise<void>((done) => occupied?.listen(0, '127.0.0.1', done));
  return (occupied.address() as AddressInfo).port;
}

describe('fnts start: operator mistakes', () => {
  it('a port in use: says which, and how to pick another (--port, FNTS_PORT)', async () => {
    const port = await occupyPort();
    const db = join(tmp.path, 'fnts.db');
    const ran = await fnts(['start', '--port', String(port), '--db', db]);
    expectOneLineError(ran, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`), /--port <n> or FNTS_PORT/);
    // Refused before anything was built: no database was made, so no reaper ran against another server's containers.
    await expect(readFile(db)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('the same through FNTS_PORT', async () => {
    const port = await occupyPort();
    const ran = await fnts(['start'], { FNTS_PORT: String(port), FNTS_DB: join(tmp.path, 'fnts.db') });
    expectOneLineError(ran, new RegExp(`port ${port} .* already in use`), /FNTS_PORT/);
  });

  it('an address this machine does not have', async () => {
    const ran = await fnts(['start', '--port', '0', '--host', '192.0.2.1', '--insecure-no-auth', '--db', join(tmp.path, 'fnts.db')]);
    expectOneLineError(ran, /cannot listen on 192\.0\.2\.1: no such address/, /--host or FNTS_HOST/);
  });

  it('a database path that is a folder, under a file, or not a database', async () => {
    const folder = join(tmp.path, 'folder.db');
    await mkdir(folder);
    expectOneLineError(await fnts(['start', '--port', '0', '--db', folder]), /cannot open the database .*folder\.db/, /--db <path> or FNTS_DB/);
    const file = join(tmp.path, 'plain-file');
    await writeFile(file, 'x');
    expectOneLineError(await fnts(['start', '--port', '0', '--db', join(file, 'fnts.db')]),
      /cannot open the database .*: a part of its folder path is a file/, /--db/);
    const junk = join(tmp.path, 'junk.db');
    await writeFile(junk, 'this is not SQLite, and it is long enough to have a header where SQLite looks for one\n'.repeat(20));
    expectOneLineError(await fnts(['start', '--port', '0', '--db', junk]), /junk\.db: it is not an SQLite database/, /--db/);
  });

  // Root may bind low ports and write anywhere: run as root, these two start the CLI as `nobody`.
  const unprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  it('a postgres:// URL nothing answers at, or that is not a URL: one line, no password shown', async () => {
    // A port that was free a moment ago: nothing listens there now.
    const port = await occupyPort();
    await new Promise((done) => occupied?.close(done));
    occupied = undefined;
    const ran = await fnts(['start', '--port', '0', '--db', `postgres://fnts:secret@127.0.0.1:${port}/fnts`]);
    expectOneLineError(ran, new RegExp(`cannot open the database postgres://fnts:\\*\\*\\*@127\\.0\\.0\\.1:${port}/fnts: nothing listens there`),
      /start PostgreSQL, or pass another URL with --db postgres:\/\//);
    expect(ran.stderr).not.toContain('secret');
    const malformed = await fnts(['start', '--port', '0'], { FNTS_DB: 'postgres://fnts:secret@[::1' });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('FNTS_DB=postgres://fnts:***@[::1 is not a valid URL');
    expect(malformed.stderr).not.toContain('secret');
  });

  it('a port below 1024 without the right to it', async () => {
    await chmod(tmp.path, 0o755);
    const ran = await fnts(['start', '--port', '80', '--db', join(tmp.path, 'fnts.db')], {}, unprivileged);
    expectOneLineError(ran, /not allowed to listen on 127\.0\.0\.1:80 \(EACCES\)/, /below 1024 .*--port <n> or FNTS_PORT/);
  });

  it('a database folder this user may not write', async () => {
    await chmod(tmp.path, 0o755);
    const locked = join(tmp.path, 'locked');
    await mkdir(locked, { mode: 0o555 });
    expectOneLineError(await fnts(['start', '--port', '0', '--db', join(locked, 'sub', 'fnts.db')], {}, unprivileged), /cannot open the database .*: permission denied/, /--db/);
  });

  it('Docker not answering: says where it looked and how to start it', async () => {
    const ran = await fnts(['start', '--port', '0', '--db', join(tmp.path, 'fnts.db')], { DOCKER_HOST: `unix://${join(tmp.path, 'no-docker.sock')}` });
    expectOneLineError(ran, /Docker is not answering at .*no-docker\.sock \(ENOENT\)/, /start Docker .*DOCKER_HOST/);
  });

  it('a log file that cannot be written', async () => {
    const file = join(tmp.path, 'plain-file');
    await writeFile(file, 'x');
    const ran = await fnts(['start', '--port', '0', '--db', join(tmp.path, 'fnts.db'), '--log-file', join(file, 'fnts.log')]);
    expectOneLineError(ran, /cannot write the log file .*fnts\.log/, /--log-file <path> or FNTS_LOG_FILE/);
  });

  it('bad values name the flag that set them; one line each', async () => {
    expectOneLineError(await fnts(['start', '--port', 'eighty']), /invalid server setting: --port "eighty" must be an integer between 0 and 65535/, /fnts start --help/);
    const two = await fnts(['start', '--port', '70000', '--log-level', 'loud']);
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(/^Error: 2 invalid server settings:\n {2}--port "70000" must be .*\n {2}--log-level loud must be one of/);
    expect(two.stderr).not.toMatch(/\n\s+at /);
    expectOneLineError(await fnts(['start', '--server-id', 'not ok']), /invalid server setting: --server-id not ok must be 1 to 64 letters/, /fnts start --help/);
  });
});

/** Starts `fnts start` and resolves once it printed its startup line; the caller stops it. */
async function startUntilListening(args: string[], env: Record<string, string> = {}): Promise<{ stdout: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--db', join(tmp.path, 'fnts.db'), ...args], {
    env: { PATH: process.env.PATH ?? '', FNTS_IOFS_DIR: join(tmp.path, 'iofs'), ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no startup line in 20 s:\n${out}`)), 20_000);
    child.stdout.on('data', () => {
      if (!out.includes('fnts server listening on')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${out}`));
    });
  });
  return {
    stdout: () => out,
    stop: () => new Promise((done) => {
      if (child.exitCode !== null) return done(child.exitCode);
      child.once('exit', done);
      child.kill('SIGTERM');
    }),
  };
}

describe('fnts start: logs', () => {
  it('--log-file: JSON lines go to the file; the terminal gets only the startup line', async () => {
    const log = join(tmp.path, 'logs', 'fnts.log');
    const server = await startUntilListening(['--log-file', log, '--log-level', 'debug']);
    expect(await server.stop()).toBe(0);
    expect(server.stdout()).toMatch(/^fnts server listening on http:\/\/127\.0\.0\.1:\d+ \(log: .*fnts\.log\)\n$/);
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('shutting down');
  });

  it('not a terminal: JSON lines; --log-format pretty: readable lines', async () => {
    const json = await startUntilListening(['--log-level', 'info']);
    expect(await json.stop()).toBe(0);
    expect(json.stdout()).toMatch(/^\{"level":30,.*"msg":"shutting down"\}$/m);
    const pretty = await startUntilListening(['--log-format', 'pretty']);
    expect(await pretty.stop()).toBe(0);
    expect(pretty.stdout()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: shutting down {"signal":"SIGTERM"}$/m);
    expect(pretty.stdout()).not.toMatch(/"level":/);
  });
});

describe('fnts start: identity', () => {
  it('--state-dir keeps the server id in <dir>/server-id, the same across restarts', async () => {
    const dir = join(tmp.path, 'state');
    const first = await startUntilListening(['--state-dir', dir]);
    expect(await first.stop()).toBe(0);
    const id = (await readFile(join(dir, 'server-id'), 'utf8')).trim();
    expect(id).toMatch(/^[a-z0-9]+$/);
    const again = await startUntilListening(['--state-dir', dir]);
    expect(await again.stop()).toBe(0);
    expect((await readFile(join(dir, 'server-id'), 'utf8')).trim()).toBe(id);
  });
});

describe('versions and help', () => {
  const api = serverPerTest();

  it('`fnts` alone prints the help on stdout and exits 0', async () => {
    const ran = await fnts([]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^Usage: fnts \[options\] \[command\]/);
    expect(ran.stdout).toMatch(/^ {2}version\b/m);
  });

  it('--version and -V print the client version; -v is still --verbose', async () => {
    const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
    expect(CLI_VERSION).toBe(pkg.version);
    for (const flag of ['--version', '-V']) {
      const ran = await fnts([flag]);
      expect(ran).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    }
    const verbose = await fnts(['-v', 'list', 'apps'], { FNTS_API_URL: 'http://127.0.0.1:1' });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('`fnts version` prints the client and the server version', async () => {
    const ran = await fnts(['version'], { FNTS_API_URL: api.url });
    expect(ran).toEqual({ code: 0, stdout: `client: ${CLI_VERSION}\nserver: 0.1.0 (${api.url})\n`, stderr: '' });
    const json = await fnts(['version', '--output', 'json'], { FNTS_API_URL: api.url });
    expect(JSON.parse(json.stdout)).toEqual({ client: CLI_VERSION, server: '0.1.0' });
  });

  it('`fnts version` with no server: the client part, and why the server has none (exit 0)', async () => {
    const silent = await occupyPort();
    await new Promise((done) => occupied?.close(done));
    occupied = undefined;
    const url = `http://127.0.0.1:${silent}`;
    const ran = await fnts(['version'], { FNTS_API_URL: url });
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe(`client: ${CLI_VERSION}\nserver: unreachable (cannot reach the fnts server at ${url} (ECONNREFUSED))\n`);
  });

  it("help texts quote the server's own limits", async () => {
    const serverDefault = loadConfig({}).maxRequestBytes;
    expect(serverDefault).toBe(DEFAULT_MAX_REQUEST_BYTES);
    const invoke = await promisify(execFile)(process.execPath, [BIN, 'invoke', '--help']);
    expect(invoke.stdout.replace(/\s+/g, ' ')).toContain(`up to ${formatByteLimit(serverDefault)} unless`);
    expect(invoke.stdout).not.toContain('10 MiB');
    const fn = await promisify(execFile)(process.execPath, [BIN, 'create', 'fn', '--help']);
    expect(fn.stdout.replace(/\s+/g, ' ')).toContain(`(${FN_SETTING_LIMITS.memory.min}-${FN_SETTING_LIMITS.memory.max}, default ${FN_SETTING_LIMITS.memory.default})`);
  });
});
