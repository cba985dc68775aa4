import type { Command } from 'commander';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';

/** `fnts start`: the only command that loads the server package. */
export function registerStartCommand(prog: Command, full: CommandSelection): void {
  const cmd = prog
    .command('start')
    .description('run the fnts server in the foreground');
  if (!full('start')) return;
  cmd
    .option('--port <port>', 'port to listen on (default 8080, FNTS_PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, FNTS_HOST)')
    .option('--db <path>', 'SQLite file (default ~/.fnts/data/fnts.db, FNTS_DB)')
    .addHelpText('after', examples('fnts start', 'fnts start --port 8080 --db ./fnts.db'))
    .action(async (o: { port?: string; host?: string; db?: string }) => {
      const { startCommand } = await import('./start.js');
      await startCommand(o);
    });
}
