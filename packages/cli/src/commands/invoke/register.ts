import { DEFAULT_MAX_REQUEST_BYTES, formatByteLimit } from '@fnts/api/limits';
import type { Command } from 'commander';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import { invokeCommand } from './invoke.js';

/** What `fnts invoke` takes from the process: the body (stdin when piped), and where its exit code goes. */
export interface InvokeIo {
  readStdin(): Promise<Buffer>;
  setExitCode(code: number): void;
}

/** `fnts invoke <app> <fn>`. */
export function registerInvokeCommand(prog: Command, ctx: ContextFactory, io: InvokeIo, full: CommandSelection): void {
  const cmd = prog
    .command('invoke <app> <fn>')
    .description(`call a function with stdin as the body and print its response; the server takes bodies up to ${formatByteLimit(DEFAULT_MAX_REQUEST_BYTES)} unless started with a larger FNTS_MAX_REQUEST_BYTES`);
  if (!full('invoke')) return;
  cmd
    .option('--content-type <type>', "Content-Type of the request (default: func.yaml's content_type here, else text/plain)")
    .option('--endpoint <url>', 'call this URL instead of looking the function up')
    .option('--display-call-id', 'print the call id first')
    .option('--output <format>', 'json: print status_code, headers and body as JSON')
    .addHelpText('after', examples(
      `echo '{"name":"fnts"}' | fnts invoke myapp hello --content-type application/json`,
      'fnts invoke myapp hello --display-call-id',
      'fnts invoke myapp hello --output json < request.json',
    ))
    .action(async (app: string, fn: string, o: { contentType?: string; endpoint?: string; displayCallId?: boolean; output?: string }) => {
      const body = await io.readStdin();
      io.setExitCode(await invokeCommand({ app, fn, ...o, body }, await ctx()));
    });
}
