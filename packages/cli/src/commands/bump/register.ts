import type { Command } from 'commander';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import { bumpCommand } from './bump.js';

/** `fnts bump [dir]`. */
export function registerBumpCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const cmd = prog
    .command('bump [dir]')
    .description("raise func.yaml's version (patch by default), keeping comments and other keys");
  if (!full('bump')) return;
  cmd
    .option('--major', 'bump the major version: 1.4.2 → 2.0.0')
    .option('--minor', 'bump the minor version: 1.4.2 → 1.5.0')
    .addHelpText('after', examples('fnts bump', 'fnts bump --minor', 'fnts bump hello --major'))
    .action(async (dir: string | undefined, o: { major?: boolean; minor?: boolean }) => {
      await bumpCommand({ ...(dir ? { dir } : {}), ...o }, await ctx());
    });
}
