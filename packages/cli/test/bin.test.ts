// The `fnts` bin as npm links it: dist/bin/fnts, a sh launcher that runs the CLI bundle (fnts.cjs) from the V8
// startup snapshot beside it (fnts.blob) when the node on PATH built that snapshot, and plainly otherwise. Both ways
// must answer the same, and nothing about the snapshot may make the bin fail. Run as real processes against a real
// server; `sh -x` shows which way the launcher went (its `exec` line).
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI_VERSION } from '../src/version.js';
import { serverPerTest, tempDirPerTest } from './support/harness.js';

const run = promisify(execFile);
const api = serverPerTest();
const tmp = tempDirPerTest();

const BIN_DIR = fileURLToPath(new URL('../dist/bin/', import.meta.url));
/** The node running these tests first on PATH: the one `npm run build` made the snapshot with. */
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
/** The launcher's exec with the snapshot: with its glibc tunable for node's start (see the bin) unless the user set their own. */
const SNAPSHOT_EXEC = /^\+ (?:GLIBC_TUNABLES=glibc\.malloc\.hugetlb=1 FNTS_BIN_TUNED=1 )?exec \S+ --snapshot-blob \S+\/fnts\.blob \S+\/fnts\.cjs /m;
const PLAIN_EXEC = /^\+ exec node \S+\/fnts\.cjs /m;

interface Ran {
  stdout: string;
  /** The launcher's trace (`sh -x`), then the CLI's own stderr. */
  stderr: string;
}

/** Runs a launcher through `sh -x`, so its trace tells which way it went. */
function traced(launcher: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return run('sh', ['-x', launcher, ...args], { env: { PATH, FNTS_HOME: join(tmp.path, 'home'), FNTS_API_URL: api.url, ...env } });
}

/** A copy of dist/bin to break in one way or another. */
async function copyOfBin(): Promise<string> {
  const dir = join(tmp.path, 'bin');
  await cp(BIN_DIR, dir, { recursive: true });
  return join(dir, 'fnts');
}

// The bin is a #!/bin/sh launcher and the tests drive it with Linux paths and signals; on other platforms (never in
// CI, which is Debian) there is nothing of it to test.
const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

describeOnLinux('the fnts bin', () => {
  it('runs from the startup snapshot when this node built it, answering as the plain bundle does', async () => {
    await traced(join(BIN_DIR, 'fnts'), ['create', 'app', 'bin-probe']);
    const viaSnapshot = await traced(join(BIN_DIR, 'fnts'), ['list', 'apps']);
    expect(viaSnapshot.stderr).toMatch(SNAPSHOT_EXEC);
    expect(viaSnapshot.stdout).toMatch(/^NAME +ID\nbin-probe +\S+\n$/);
    expect(viaSnapshot.stderr).toContain('+ GLIBC_TUNABLES=glibc.malloc.hugetlb=1 FNTS_BIN_TUNED=1 exec ');
    const plain = await run(process.execPath, [join(BIN_DIR, 'fnts.cjs'), 'list', 'apps'], { env: { PATH, FNTS_HOME: join(tmp.path, 'home'), FNTS_API_URL: api.url } });
    expect(viaSnapshot.stdout).toBe(plain.stdout);
    // Tunables of the user's own are left as they are, and the snapshot still runs.
    const ownTunables = await traced(join(BIN_DIR, 'fnts'), ['list', 'apps'], { GLIBC_TUNABLES: 'glibc.malloc.check=0' });
    expect(ownTunables.stderr).toMatch(/^\+ exec \S+ --snapshot-blob /m);
    expect(ownTunables.stdout).toBe(plain.stdout);

    // Errors and exit codes come through the snapshot unchanged: a user error (1), a usage error (2).
    const unreachable = await traced(join(BIN_DIR, 'fnts'), ['list', 'apps'], { FNTS_API_URL: 'http://127.0.0.1:1' }).catch((e: Ran & { code: number }) => e);
    expect(unreachable).toMatchObject({ code: 1, stderr: expect.stringContaining('Error: cannot reach the fnts server at http://127.0.0.1:1') });
    const typo = await traced(join(BIN_DIR, 'fnts'), ['lst', 'apps']).catch((e: Ran & { code: number }) => e);
    expect(typo).toMatchObject({ code: 2, stderr: expect.stringContaining("error: unknown command 'lst'") });
  });

  it('reads contexts (YAML, in the snapshot) and answers as the plain bundle does', async () => {
    const home = join(tmp.path, 'ctx-home');
    await traced(join(BIN_DIR, 'fnts'), ['create', 'context', 'probe', '--api-url', api.url], { FNTS_HOME: home, FNTS_API_URL: '' });
    await traced(join(BIN_DIR, 'fnts'), ['use', 'context', 'probe'], { FNTS_HOME: home, FNTS_API_URL: '' });
    await traced(join(BIN_DIR, 'fnts'), ['create', 'app', 'via-context'], { FNTS_HOME: home, FNTS_API_URL: '' });
    const viaSnapshot = await traced(join(BIN_DIR, 'fnts'), ['list', 'apps'], { FNTS_HOME: home, FNTS_API_URL: '' });
    expect(viaSnapshot.stderr).toMatch(SNAPSHOT_EXEC);
    expect(viaSnapshot.stdout).toMatch(/^NAME +ID\nvia-context +\S+\n$/);
    const contexts = await traced(join(BIN_DIR, 'fnts'), ['list', 'contexts'], { FNTS_HOME: home, FNTS_API_URL: '' });
    const plain = await run(process.execPath, [join(BIN_DIR, 'fnts.cjs'), 'list', 'contexts'], { env: { PATH, FNTS_HOME: home } });
    expect(contexts.stdout).toContain('probe');
    expect(contexts.stdout).toBe(plain.stdout);
  });

  it('prints the same help from the snapshot (whose command tree was built in full) as the unbundled main.js', async () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    for (const args of [['--help'], ['list', '--help'], ['list', 'apps', '--help'], ['stream', 'put', '--help'], ['completion', 'bash']]) {
      const viaSnapshot = await traced(join(BIN_DIR, 'fnts'), args);
      expect(viaSnapshot.stderr).toMatch(SNAPSHOT_EXEC);
      expect(viaSnapshot.stdout).toBe((await run(process.execPath, [main, ...args], { env: { PATH, FNTS_HOME: join(tmp.path, 'home') } })).stdout);
    }
  });

  it('runs the plain bundle, answering the same, without the snapshot, with one another node built, or with NODE_OPTIONS', async () => {
    await traced(join(BIN_DIR, 'fnts'), ['create', 'app', 'fallback-probe']);
    const expected = (await traced(join(BIN_DIR, 'fnts'), ['list', 'apps'])).stdout;
    expect(expected).toContain('fallback-probe');
    const launcher = await copyOfBin();

    // NODE_OPTIONS with a V8 flag: node would refuse the snapshot (built without it) and exit, so the launcher skips it.
    const withOptions = await traced(launcher, ['list', 'apps'], { NODE_OPTIONS: '--max-old-space-size=200' });
    expect(withOptions.stderr).toMatch(PLAIN_EXEC);
    expect(withOptions.stdout).toBe(expected);
    const refused = await run(process.execPath, ['--max-old-space-size=200', '--snapshot-blob', join(BIN_DIR, 'fnts.blob'), join(BIN_DIR, 'fnts.cjs'), '--version'])
      .catch((e: { code: number }) => e);
    expect(refused).toMatchObject({ code: 14 });

    // The node binary was replaced since the snapshot was made (it is newer than the blob).
    await utimes(join(dirname(launcher), 'fnts.blob'), new Date(0), new Date(0));
    const replacedNode = await traced(launcher, ['list', 'apps']);
    expect(replacedNode.stderr).toMatch(PLAIN_EXEC);
    expect(replacedNode.stdout).toBe(expected);
    await utimes(join(dirname(launcher), 'fnts.blob'), new Date(), new Date());
    expect((await traced(launcher, ['list', 'apps'])).stderr).toMatch(SNAPSHOT_EXEC);

    // A snapshot made by another node binary (another version or build).
    await writeFile(join(dirname(launcher), 'fnts.blob.node'), '/elsewhere/bin/node\nnode v0.0.0 x64\n');
    const otherNode = await traced(launcher, ['list', 'apps']);
    expect(otherNode.stderr).toMatch(PLAIN_EXEC);
    expect(otherNode.stdout).toBe(expected);

    // No snapshot at all (a build where it could not be made, or a copy without it).
    await rm(join(dirname(launcher), 'fnts.blob'));
    await rm(join(dirname(launcher), 'fnts.blob.node'));
    const without = await traced(launcher, ['list', 'apps']);
    expect(without.stderr).toMatch(PLAIN_EXEC);
    expect(without.stdout).toBe(expected);
  });

  it('finds its files through a symlink, as npm links a bin, and runs as an executable', async () => {
    const linkDir = join(tmp.path, 'node_modules', '.bin');
    await mkdir(linkDir, { recursive: true });
    await symlink(join(BIN_DIR, 'fnts'), join(linkDir, 'fnts'));
    const { stdout } = await run(join(linkDir, 'fnts'), ['--version'], { env: { PATH } });
    expect(stdout).toBe(`${CLI_VERSION}\n`);
    const traceOfLink = await traced(join(linkDir, 'fnts'), ['--version']);
    expect(traceOfLink.stderr).toMatch(SNAPSHOT_EXEC);
  });

  it('starts the server (`fnts start` loads @fnts/server from the snapshot) and stops on SIGTERM', async () => {
    const child = spawn(join(BIN_DIR, 'fnts'), ['start', '--port', '0'], {
      env: { PATH, FNTS_HOME: join(tmp.path, 'home'), FNTS_DB: join(tmp.path, 'start.db'), FNTS_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const onData = (d: Buffer) => {
          out += d.toString();
          const m = /fnts server listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => reject(new Error(`fnts start exited with ${String(code)}: ${out}`)));
      });
      await traced(join(BIN_DIR, 'fnts'), ['create', 'app', 'started'], { FNTS_API_URL: url });
      expect((await traced(join(BIN_DIR, 'fnts'), ['list', 'apps'], { FNTS_API_URL: url })).stdout).toContain('started');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
