import type { Command } from 'commander';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import type { StartOptions } from './start.js';

/** `fnts start`: the only command that loads the server package. */
export function registerStartCommand(prog: Command, full: CommandSelection): void {
  const cmd = prog
    .command('start')
    .description('run the fnts server in the foreground');
  if (!full('start')) return;
  cmd
    .option('--port <port>', 'port to listen on (default 8080, FNTS_PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, FNTS_HOST)')
    .option('--db <path-or-url>', 'SQLite file (default ~/.fnts/data/fnts.db), or a postgres:// URL shared by several servers (FNTS_DB)')
    .option('--state-dir <dir>', 'this server\'s own folder: its id lives in <dir>/server-id; one per server on a shared database (FNTS_STATE_DIR)')
    .option('--server-id <id>', 'name this server yourself (letters, digits, ., _, -); it must differ between servers (FNTS_SERVER_ID)')
    .option('--api-keys-file <file>', 'require API keys: one `sha256:<hex> [scope]` line each, made by `fnts keys create` (FNTS_API_KEYS_FILE)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate chain (FNTS_TLS_CERT); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key for --tls-cert (FNTS_TLS_KEY)')
    .option('--insecure-no-auth', 'listen beyond loopback without API keys anyway (FNTS_INSECURE_NO_AUTH)')
    .option('--log-file <path>', 'append JSON log lines to this file; the terminal shows only the startup line (FNTS_LOG_FILE)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default info, FNTS_LOG_LEVEL)')
    .option('--log-format <format>', 'auto: readable lines on a terminal, JSON otherwise; or json, pretty (default auto, FNTS_LOG_FORMAT)')
    .addHelpText('after', examples(
      'fnts start',
      'fnts start --port 8080 --db ./fnts.db',
      'fnts start --log-file ./fnts.log &',
      'FNTS_PORT=9090 fnts start',
      'fnts start --db postgres://fnts@db/fnts --state-dir /var/lib/fnts',
      'fnts start --host 0.0.0.0 --api-keys-file /etc/fnts/keys --tls-cert cert.pem --tls-key key.pem',
    ))
    .action(async (o: StartOptions) => {
      const { startCommand } = await import('./start.js');
      await startCommand(o);
    });
}
