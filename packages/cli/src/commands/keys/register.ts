import type { Command } from 'commander';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';

/** `fnts keys create`: a new API key for a server. */
export function registerKeysCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const keys = prog.command('keys').description('API keys for a server');
  if (!full('keys')) return;
  keys
    .addHelpText('after', examples('fnts keys create --scope invoke --name web'))
    .command('create')
    .description("make a random API key: prints the key once, and the line for the server's keys file")
    .option('--scope <scope>', 'admin (everything), invoke (/invoke and triggers that require a key) or metrics (/metrics)', 'admin')
    .option('--name <name>', 'a one-word name kept on the line, for the server log')
    .option('--output <format>', 'json: print {key, scope, line} as JSON')
    .addHelpText('after', examples('fnts keys create --scope invoke --name web', 'fnts keys create --output json'))
    .action(async (o: { scope?: string; name?: string; output?: string }) => {
      const { keysCreateCommand } = await import('./keys.js');
      await keysCreateCommand(o, await ctx({ lenient: true }));
    });
}
