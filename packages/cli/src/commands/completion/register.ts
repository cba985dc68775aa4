import { Argument, type Command } from 'commander';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import { SHELLS } from './completion-script.js';
import { completionCommand } from './completion.js';

/** `fnts completion <shell>`: the script is generated from `prog`, so register this after every other command. */
export function registerCompletionCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const cmd = prog
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
    .description('print a shell completion script (bash or zsh)');
  if (!full('completion')) return;
  cmd
    .addHelpText('after', examples(
      'source <(fnts completion bash)                 # now; add it to ~/.bashrc to keep it',
      'fnts completion zsh > "${fpath[1]}/_fnts"     # zsh, then restart the shell',
    ))
    .action(async (shell: string) => {
      await completionCommand({ shell }, await ctx(), prog);
    });
}
