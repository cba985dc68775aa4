// The commander program as a whole: --help examples on every command, the --json switch, and the shell completion
// scripts generated from its commands.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completionScript } from '../src/commands/completion/completion-script.js';
import { buildProgram, type ProgramEnv } from '../src/program.js';
import { captureContext, serverPerTest, tempDirPerTest, type Captured } from './support/harness.js';

const run = promisify(execFile);
const api = serverPerTest();
const tmp = tempDirPerTest();

function program(calls: { json: boolean }[] = [], cli: Captured = captureContext('http://127.0.0.1:1')): Command {
  const env: ProgramEnv = {
    context: (o) => {
      calls.push({ json: o.json });
      return cli.ctx;
    },
    readStdin: async () => Buffer.alloc(0),
    openStdin: () => ({ input: (async function* () {})(), terminal: false }),
    interruption: () => ({ signal: new AbortController().signal, release: () => undefined }),
    setExitCode: () => undefined,
  };
  return buildProgram(env);
}

function allCommands(cmd: Command, path = 'fnts'): [string, Command][] {
  return cmd.commands.flatMap((c) => [[`${path} ${c.name()}`, c] as [string, Command], ...allCommands(c, `${path} ${c.name()}`)]);
}

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => void (text += s), writeErr: (s) => void (text += s) });
  cmd.outputHelp();
  return text;
}

describe('the program', () => {
  it('shows examples in the --help of every command', () => {
    const commands = allCommands(program());
    expect(commands.length).toBeGreaterThan(40);
    const without = commands.filter(([, c]) => !/\nExamples?:\n {2}.*\bfnts\b/.test(helpOf(c))).map(([path]) => path);
    expect(without).toEqual([]);
  });

  it('treats --json as --output json on commands that have --output, and turns spinners off', async () => {
    const cli = captureContext(api.url, tmp.path);
    const calls: { json: boolean }[] = [];
    await program(calls, cli).parseAsync(['list', 'apps', '--json'], { from: 'user' });
    expect(cli.stdout()).toBe('[]\n');
    expect(calls).toEqual([{ json: true }]);
  });

  it('asks for no spinners with --output json', async () => {
    const calls: { json: boolean }[] = [];
    await program(calls, captureContext(api.url, tmp.path)).parseAsync(['list', 'apps', '--output', 'json'], { from: 'user' });
    expect(calls).toEqual([{ json: true }]);
  });
});

describe('shell completion', () => {
  async function complete(words: string[]): Promise<string[]> {
    const file = join(tmp.path, 'fnts.bash');
    await writeFile(file, completionScript(program(), 'bash'));
    const script = [
      `source ${file}`,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_fnts_completion',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const { stdout } = await run('bash', ['-c', script], { cwd: tmp.path });
    return stdout.split('\n').filter(Boolean);
  }

  it('completes commands, subcommands (through aliases), options and argument choices in bash', async () => {
    expect(await complete(['fnts', ''])).toEqual(expect.arrayContaining(['init', 'build', 'bump', 'deploy', 'invoke', 'completion', 'use']));
    expect(await complete(['fnts', 'create', ''])).toEqual(['app', 'fn', 'trigger', 'stream', 'context']);
    expect(await complete(['fnts', 'trigger', ''])).toEqual(['status', 'pause', 'resume', 'seek', 'redrive']);
    expect(await complete(['fnts', 'stream', 'tail', '--f'])).toEqual(['--from-beginning', '--follow']);
    expect(await complete(['fnts', 'ls', 'c'])).toEqual(['calls', 'contexts']);
    expect(await complete(['fnts', 'deploy', '--p'])).toEqual(['--prune']);
    expect(await complete(['fnts', '--verbose', 'deploy', '--no-'])).toEqual(['--no-bump', '--no-cache', '--no-typecheck']);
    expect(await complete(['fnts', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('writes a zsh script with every command and its description', () => {
    const script = completionScript(program(), 'zsh');
    expect(script.startsWith('#compdef fnts\n')).toBe(true);
    expect(script).toContain("'fnts create ctx') key='fnts create context' ;;");
    expect(script).toMatch(/'--prune:remove the function'\\''s config keys and triggers that are no longer in func\.yaml'/);
  });
});
