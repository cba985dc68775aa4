// Shell completion of names: `fnts __complete` against a real server, and the generated bash, zsh and fish scripts
// run in those shells, calling the built `fnts` bin as a real process (linked onto PATH, as npm links it).
import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../src/client.js';
import { COMPLETE_TIMEOUT_MS, completeNamesCommand, nameSlot } from '../src/commands/completion/complete-names.js';
import { completionScript, type Shell } from '../src/commands/completion/completion-script.js';
import { buildProgram, type ProgramEnv } from '../src/program.js';
import { captureContext, serverPerTest, tempDirPerTest } from './support/harness.js';

const run = promisify(execFile);
const api = serverPerTest();
const tmp = tempDirPerTest();
/** The bin npm links (a launcher that runs the bundle from its startup snapshot): completion runs it on every TAB. */
const BIN = fileURLToPath(new URL('../dist/bin/fnts', import.meta.url));

function program(): Command {
  const env: ProgramEnv = {
    context: () => captureContext('http://127.0.0.1:1').ctx,
    readStdin: async () => Buffer.alloc(0),
    openStdin: () => ({ input: (async function* () {})(), terminal: false }),
    interruption: () => ({ signal: new AbortController().signal, release: () => undefined }),
    setExitCode: () => undefined,
  };
  return buildProgram(env);
}

/** Two apps, two functions with a trigger each in `shop`, and a stream. */
async function seed(url: string): Promise<void> {
  const client = new ApiClient(url);
  const shop = await client.createApp({ name: 'shop' });
  await client.createApp({ name: 'blog' });
  for (const fn of ['checkout', 'cart']) {
    const created = await client.createFn({ app_id: shop.id, name: fn, image: `${fn}:0.0.1` });
    await client.createTrigger({ app_id: shop.id, fn_id: created.id, name: `${fn}-web`, type: 'http', source: `/${fn}` });
  }
  await client.createStream({ name: 'orders', partitions: 1 });
}

describe('which name the next word is', () => {
  const slot = (line: string) => nameSlot(program(), line.split(' ').filter(Boolean));

  it('follows commands, aliases, global options and option values to the argument at the cursor', () => {
    expect(slot('invoke')).toEqual({ kind: 'app' });
    expect(slot('invoke shop')).toEqual({ kind: 'fn', app: 'shop' });
    expect(slot('--verbose invoke shop')).toEqual({ kind: 'fn', app: 'shop' });
    expect(slot('invoke shop cart')).toBeUndefined();
    expect(slot('ls fns')).toEqual({ kind: 'app' });
    expect(slot('list triggers shop')).toEqual({ kind: 'fn', app: 'shop' });
    expect(slot('inspect trigger shop cart')).toEqual({ kind: 'trigger', app: 'shop', fn: 'cart' });
    expect(slot('triggers status shop cart')).toEqual({ kind: 'trigger', app: 'shop', fn: 'cart' });
    expect(slot('delete stream')).toEqual({ kind: 'stream' });
    expect(slot('stream tail --limit 5')).toEqual({ kind: 'stream' });
    expect(slot('use context')).toEqual({ kind: 'context' });
    expect(slot('deploy --app')).toEqual({ kind: 'app' });
    expect(slot('deploy --app=shop')).toBeUndefined();
    expect(slot('config fn shop cart')).toBeUndefined();
  });

  it('offers no names where a new one is typed, or a file', () => {
    expect(slot('create app')).toBeUndefined();
    expect(slot('create fn shop')).toBeUndefined();
    expect(slot('create trigger shop cart')).toBeUndefined();
    expect(slot('create trigger shop')).toEqual({ kind: 'fn', app: 'shop' });
    expect(slot('init')).toBeUndefined();
    expect(slot('deploy')).toBeUndefined();
  });
});

describe('fnts __complete', () => {
  beforeEach(async () => {
    await seed(api.url);
  });

  it('prints the server\'s names for the next word, sorted, one per line', async () => {
    const names = async (line: string) => {
      const cli = api.cli();
      await completeNamesCommand(line.split(' '), program(), async () => cli.ctx);
      return cli.stdout();
    };
    expect(await names('invoke')).toBe('blog\nshop\n');
    expect(await names('invoke shop')).toBe('cart\ncheckout\n');
    expect(await names('trigger pause shop cart')).toBe('cart-web\n');
    expect(await names('stream put')).toBe('orders\n');
    expect(await names('invoke nosuchapp')).toBe('');
    expect(await names('create app')).toBe('');
  });

  it('prints nothing, quickly, when the server is down or does not answer', async () => {
    const down = captureContext('http://127.0.0.1:1');
    expect(await completeNamesCommand(['invoke'], program(), async () => down.ctx)).toEqual([]);
    expect(down.stdout() + down.stderr()).toBe('');

    // Accepts connections and never answers: only the deadline ends the lookup.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const mute = captureContext(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
      const started = Date.now();
      expect(await completeNamesCommand(['invoke'], program(), async () => mute.ctx)).toEqual([]);
      expect(Date.now() - started).toBeLessThan(COMPLETE_TIMEOUT_MS + 1000);
      expect(mute.stdout() + mute.stderr()).toBe('');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('as a process: names on stdout, nothing on stderr, exit 0 even when the server is down', async () => {
    const env = { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, FNTS_HOME: join(tmp.path, 'home') };
    const up = await run(BIN, ['__complete', '--', 'list', 'fns'], { env: { ...env, FNTS_API_URL: api.url } });
    expect(up).toEqual({ stdout: 'blog\nshop\n', stderr: '' });
    const down = await run(BIN, ['__complete', '--', 'list', 'fns'], { env: { ...env, FNTS_API_URL: 'http://127.0.0.1:1' } });
    expect(down).toEqual({ stdout: '', stderr: '' });
  });
});

describe('the completion scripts, run in their shells', () => {
  /** A directory with `fnts` on PATH (the built bin), the script for `shell`, and a file to complete in `work/`. */
  async function setUp(shell: Shell): Promise<{ env: NodeJS.ProcessEnv; script: string; work: string }> {
    await seed(api.url);
    const bin = join(tmp.path, 'bin');
    const work = join(tmp.path, 'work');
    await mkdir(bin);
    await mkdir(work);
    await writeFile(join(work, 'notes.txt'), '');
    await symlink(BIN, join(bin, 'fnts'));
    const script = join(tmp.path, `fnts.${shell}`);
    await writeFile(script, completionScript(program(), shell));
    const env = { PATH: `${bin}${delimiter}${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, FNTS_API_URL: api.url, FNTS_HOME: join(tmp.path, 'home'), HOME: tmp.path };
    return { env, script, work };
  }

  it('bash: completes app, function, trigger and stream names, and files where no name goes', async () => {
    const { env, script, work } = await setUp('bash');
    const complete = async (words: string[]) => {
      const lines = [
        `source ${script}`, `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`, `COMP_CWORD=${words.length - 1}`,
        '_fnts_completion', 'printf "%s\\n" "${COMPREPLY[@]}"',
      ];
      return (await run('bash', ['-c', lines.join('\n')], { cwd: work, env })).stdout.split('\n').filter(Boolean);
    };
    expect(await complete(['fnts', 'invoke', ''])).toEqual(['blog', 'shop']);
    expect(await complete(['fnts', 'invoke', 'shop', 'ch'])).toEqual(['checkout']);
    expect(await complete(['fnts', 'inspect', 'trigger', 'shop', 'cart', ''])).toEqual(['cart-web']);
    expect(await complete(['fnts', 'stream', 'tail', ''])).toEqual(['orders']);
    expect(await complete(['fnts', 'deploy', '--app', 's'])).toEqual(['shop']);
    expect(await complete(['fnts', 'deploy', ''])).toEqual(['notes.txt']);
    expect(await complete(['fnts', 'create', 'app', ''])).toEqual(['notes.txt']);
    expect(await complete(['fnts', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('zsh: completes the same names (completion-system functions stand in for compinit)', async () => {
    const { env, script, work } = await setUp('zsh');
    const complete = async (words: string[]) => {
      const lines = [
        // What _fnts calls of the completion system, printing what it would offer.
        'compdef() { :; }',
        '_describe() { local -a items; items=("${(@P)4}"); print -rl -- "${items[@]%%:*}"; }',
        'compadd() { [[ $1 == -a ]] && print -rl -- "${(@P)2}"; }',
        '_files() { print -r -- "(files)"; }',
        `source ${script}`,
        `words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}`,
        '_fnts',
      ];
      return (await run('zsh', ['-f', '-c', lines.join('\n')], { cwd: work, env })).stdout.split('\n').filter(Boolean);
    };
    expect(await complete(['fnts', 'invoke', ''])).toEqual(['blog', 'shop']);
    expect(await complete(['fnts', 'invoke', 'shop', ''])).toEqual(['cart', 'checkout']);
    expect(await complete(['fnts', 'trigger', 'status', 'shop', 'checkout', ''])).toEqual(['checkout-web']);
    expect(await complete(['fnts', 'delete', 'stream', ''])).toEqual(['orders']);
    expect(await complete(['fnts', 'init', ''])).toEqual(['(files)']);
    expect(await complete(['fnts', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('fish: completes the same names through fish\'s own completion engine', async () => {
    const { env, script, work } = await setUp('fish');
    const complete = async (line: string) =>
      (await run('fish', ['--no-config', '-c', `source ${script}; complete -C${JSON.stringify(line)}`], { cwd: work, env })).stdout.split('\n').filter(Boolean);
    expect(await complete('fnts invoke ')).toEqual(['blog', 'shop']);
    expect(await complete('fnts invoke shop c')).toEqual(['cart', 'checkout']);
    expect(await complete('fnts list triggers shop ')).toEqual(['cart', 'checkout']);
    expect(await complete('fnts stream put ')).toEqual(['orders']);
    expect(await complete('fnts deploy --app b')).toEqual(['blog']);
    expect(await complete('fnts create app ')).toEqual(['notes.txt']);
    expect(await complete('fnts ls c')).toEqual([expect.stringMatching(/^calls\t/), expect.stringMatching(/^contexts\t/)]);
    expect(await complete('fnts stream tail --fo')).toEqual([expect.stringMatching(/^--follow\t/)]);
  });
});
