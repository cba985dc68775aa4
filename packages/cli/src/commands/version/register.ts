import type { Command } from 'commander';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';

/** `fnts version`: the client's version and the server's. */
export function registerVersionCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const cmd = prog.command('version').description("print this client's version and the server's");
  if (!full('version')) return;
  cmd
    .option('--output <format>', 'json: print {client, server} as JSON (server is null when it does not answer)')
    .addHelpText('after', examples('fnts version', 'FNTS_API_URL=http://127.0.0.1:9090 fnts version'))
    .action(async (o: { output?: string }) => {
      const { versionCommand } = await import('./version.js');
      await versionCommand(o, await ctx({ lenient: true }));
    });
}
