import type { Command } from 'commander';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import { initCommand } from './init.js';

/** `fnts init [dir]`. */
export function registerInitCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const cmd = prog
    .command('init [dir]')
    .description('create func.yaml and a hello-world function');
  if (!full('init')) return;
  cmd
    .option('--runtime <runtime>', 'typescript or node', 'typescript')
    .option('--name <name>', 'function name (default: the directory name)')
    .option('--force', 'overwrite an existing func.yaml')
    .option('--trigger <type>', 'add a trigger named after the function at /<name> (http)')
    .addHelpText('after', examples('fnts init hello', 'fnts init --runtime node --name greeter', 'fnts init hello --trigger http'))
    .action(async (dir: string | undefined, o: { runtime?: string; name?: string; force?: boolean; trigger?: string }) => {
      await initCommand({ ...o, ...(dir ? { dir } : {}) }, await ctx());
    });
}
