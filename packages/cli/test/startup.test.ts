// What a command loads: `fnts list apps` must not pay for the server, the Docker or Kafka clients, the bundler or the
// spinners. Run as real processes (the bundle the bin runs, dist/bin/fnts.cjs, and tsc's unbundled main.js) with a
// module hook that writes down every module resolved, against a real server. (bin.test.ts runs the bin itself.)
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_WORDS, commandNamedBy, selectionFor } from '../src/commands/tree-selection.js';
import { buildProgram, type ProgramEnv } from '../src/program.js';
import { captureContext, serverPerTest, tempDirPerTest } from './support/harness.js';

const run = promisify(execFile);
const api = serverPerTest();
const tmp = tempDirPerTest();

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const ENTRIES = { bin: join(DIST, 'bin', 'fnts.cjs'), main: join(DIST, 'main.js') };
/** Packages no management command may load; each has its own command (start, build/deploy, kafka://, spinners). */
const HEAVY = [
  'packages/server/', 'node_modules/@fnts/server', 'node_modules/dockerode/', 'node_modules/esbuild/', 'node_modules/tar-fs/',
  'node_modules/ora/', 'node_modules/undici/', 'node_modules/yaml/', 'node_modules/@confluentinc/', 'node_modules/fastify/',
  'node_modules/better-sqlite3/', 'node_modules/typescript/',
];

/** Runs the CLI recording each module it loads; answers its stdout and the modules' URLs or paths. */
async function runRecording(entry: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; loaded: string[] }> {
  const log = join(tmp.path, 'loaded.txt');
  const hooks = join(tmp.path, 'hooks.mjs');
  const register = join(tmp.path, 'register.mjs');
  await writeFile(hooks, [
    "import { appendFileSync } from 'node:fs';",
    'export async function resolve(specifier, context, next) {',
    '  const resolved = await next(specifier, context);',
    `  appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');`,
    '  return resolved;',
    '}',
  ].join('\n'));
  // ES modules go through the hook; CommonJS ones (commander, yaml) are in require.cache at exit.
  await writeFile(register, [
    "import { appendFileSync } from 'node:fs';",
    "import { createRequire, register } from 'node:module';",
    `register(${JSON.stringify(pathToFileURL(hooks).href)});`,
    'const cache = createRequire(import.meta.url).cache;',
    `process.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(cache).join('\\n') + '\\n'));`,
  ].join('\n'));
  await writeFile(log, '');
  const { stdout } = await run(process.execPath, ['--import', pathToFileURL(register).href, entry, ...args], {
    env: { PATH: process.env.PATH ?? '', FNTS_HOME: join(tmp.path, 'home'), FNTS_API_URL: api.url, ...env },
  });
  return { stdout, loaded: (await readFile(log, 'utf8')).split('\n').filter(Boolean) };
}

describe('startup', () => {
  for (const [kind, entry] of Object.entries(ENTRIES)) {
    it(`list apps (${kind}) loads none of the server, Docker, Kafka, bundler, spinner or YAML packages`, async () => {
      await run(process.execPath, [entry, 'create', 'app', 'startup-probe'], { env: { PATH: process.env.PATH ?? '', FNTS_HOME: join(tmp.path, 'home'), FNTS_API_URL: api.url } });
      const { stdout, loaded } = await runRecording(entry, ['list', 'apps']);
      expect(stdout).toContain('startup-probe');
      expect(loaded.length).toBeGreaterThan(0);
      expect(loaded.filter((url) => HEAVY.some((h) => url.includes(h)))).toEqual([]);
    });
  }

  it('completing names (__complete, run on every TAB) loads none of them either', async () => {
    await run(process.execPath, [ENTRIES.bin, 'create', 'app', 'startup-probe'], { env: { PATH: process.env.PATH ?? '', FNTS_HOME: join(tmp.path, 'home'), FNTS_API_URL: api.url } });
    const { stdout, loaded } = await runRecording(ENTRIES.bin, ['__complete', '--', 'invoke']);
    expect(stdout).toBe('startup-probe\n');
    expect(loaded.filter((url) => HEAVY.some((h) => url.includes(h)))).toEqual([]);
  });

  it('the bundled bin prints the same help and the same answers as the unbundled main.js', async () => {
    for (const args of [['--help'], ['list', '--help'], ['stream', 'put', '--help'], ['completion', 'bash']]) {
      const bin = await run(process.execPath, [ENTRIES.bin, ...args], { env: { PATH: process.env.PATH ?? '', FNTS_HOME: join(tmp.path, 'home') } });
      const main = await run(process.execPath, [ENTRIES.main, ...args], { env: { PATH: process.env.PATH ?? '', FNTS_HOME: join(tmp.path, 'home') } });
      expect(bin.stdout).toBe(main.stdout);
    }
  });

  it('reads a current context from config.yaml (loading YAML only then)', async () => {
    const home = join(tmp.path, 'ctx-home');
    await run(process.execPath, [ENTRIES.bin, 'create', 'context', 'probe', '--api-url', api.url], { env: { PATH: process.env.PATH ?? '', FNTS_HOME: home } });
    await run(process.execPath, [ENTRIES.bin, 'use', 'context', 'probe'], { env: { PATH: process.env.PATH ?? '', FNTS_HOME: home } });
    await run(process.execPath, [ENTRIES.bin, 'create', 'app', 'via-context'], { env: { PATH: process.env.PATH ?? '', FNTS_HOME: home } });
    // The unbundled main.js: the bundle has yaml inside it (see scripts/bundle-bin.mjs), so loads no file for it.
    const { stdout, loaded } = await runRecording(ENTRIES.main, ['list', 'apps'], { FNTS_HOME: home, FNTS_API_URL: '' });
    expect(stdout).toContain('via-context');
    expect(loaded.some((url) => url.includes('node_modules/yaml/'))).toBe(true);
    const viaBin = await run(process.execPath, [ENTRIES.bin, 'list', 'apps'], { env: { PATH: process.env.PATH ?? '', FNTS_HOME: home } });
    expect(viaBin.stdout).toBe(stdout);
  });
});

describe('the command tree built for one command line', () => {
  const env: ProgramEnv = {
    context: () => captureContext('http://127.0.0.1:1').ctx,
    readStdin: async () => Buffer.alloc(0),
    openStdin: () => ({ input: (async function* () {})(), terminal: false }),
    interruption: () => ({ signal: new AbortController().signal, release: () => undefined }),
    setExitCode: () => undefined,
  };
  const find = (prog: Command, path: string[]): Command | undefined =>
    path.reduce<Command | undefined>((cmd, name) => cmd?.commands.find((c) => c.name() === name || c.aliases().includes(name)), prog);
  const help = (cmd: Command | undefined): string => cmd?.helpInformation() ?? '(missing)';

  it('builds only the command being run, and the whole tree for help, completion or a word that is no command', () => {
    expect(commandNamedBy(['list', 'apps'])).toBe('list');
    expect(commandNamedBy(['--json', 'ls', 'apps'])).toBe('list');
    expect(commandNamedBy(['unset', 'config', 'app', 'a', 'K'])).toBe('unset');
    expect(commandNamedBy(['triggers', 'status', 'a', 'f', 't'])).toBe('trigger');
    expect(commandNamedBy(['help', 'list'])).toBeUndefined();
    expect(commandNamedBy(['lst'])).toBeUndefined();
    expect(commandNamedBy([])).toBeUndefined();
    expect(selectionFor(['invoke', 'a', 'f'])('invoke')).toBe(true);
    expect(selectionFor(['invoke', 'a', 'f'])('list')).toBe(false);
    expect(selectionFor(['completion', 'bash'])('list')).toBe(true);
    expect(selectionFor(['help', 'list'])('list')).toBe(true);
  });

  it('knows every word that names a top-level command, and nothing else', () => {
    const words = buildProgram(env).commands.flatMap((c) => [c.name(), ...c.aliases()].map((w) => [w, c.name()]));
    expect(Object.fromEntries(words)).toEqual(COMMAND_WORDS);
  });

  it('gives the command being run, its subcommands and their objects the same help as the whole tree', () => {
    const full = buildProgram(env);
    expect(buildProgram(env, ['invoke', 'a', 'f']).commands.map((c) => c.name())).toEqual(full.commands.map((c) => c.name()));
    for (const path of [['init'], ['build'], ['deploy'], ['invoke'], ['logs'], ['start'], ['stream', 'put'], ['stream', 'tail'],
      ['trigger', 'seek'], ['use', 'context'], ['list'], ['list', 'apps'], ['ls', 'triggers'], ['create', 'fn'], ['inspect', 'stream'], ['update', 'context'],
      ['delete', 'trigger'], ['config', 'fn'], ['unset', 'config'], ['unset', 'config', 'app']]) {
      expect(help(find(buildProgram(env, path), path))).toBe(help(find(full, path)));
    }
  });
});
