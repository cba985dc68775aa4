import { Argument, type Command } from 'commander';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import { completeNamesCommand } from './complete-names.js';
import { SHELLS } from './completion-script.js';
import { completionCommand } from './completion.js';

/**
 * `fnts completion <shell>`, and the hidden `fnts __complete -- WORDS…` its scripts run for the names of apps,
 * functions, triggers, streams and contexts. Both read `prog` when they run, so every other command is there by then.
 */
export function registerCompletionCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const names = prog
    .command('__complete [words...]', { hidden: true })
    .description('print the names that can follow WORDS (for the completion scripts)')
    .helpOption(false)
    .allowUnknownOption()
    .addHelpText('after', examples('fnts __complete -- invoke myapp      # the functions of myapp, one per line'));
  if (full('__complete')) names.action(async (words: string[] | undefined) => void (await completeNamesCommand(words ?? [], prog, () => ctx())));
  const cmd = prog
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
    .description('print a shell completion script (bash, zsh or fish)');
  if (!full('completion')) return;
  cmd
    .addHelpText('after', examples(
      'source <(fnts completion bash)                 # now; add it to ~/.bashrc to keep it',
      'fnts completion zsh > "${fpath[1]}/_fnts"     # zsh, then restart the shell',
      'fnts completion fish > ~/.config/fish/completions/fnts.fish',
    ))
    .action(async (shell: string) => {
      await completionCommand({ shell }, await ctx(), prog);
    });
}
