import type { Command } from 'commander';
import { parseIntFlag } from '../../pairs.js';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import { logsCommand } from './logs.js';

/** `fnts logs <app> <fn>`. */
export function registerLogsCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const cmd = prog
    .command('logs <app> <fn>')
    .description("print a function's recent output (stdout and stderr), with call ids");
  if (!full('logs')) return;
  cmd
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--tail <n>', 'how many recent lines to start with (at most 1000)', parseIntFlag('--tail'), 100)
    .option('--call <call_id>', "only this call's output (the same as `fnts get logs APP FN CALL_ID`)")
    .option('--output <format>', 'json: one JSON object per line')
    .addHelpText('after', examples('fnts logs myapp hello', 'fnts logs myapp hello --follow', 'fnts logs myapp hello --call 01J9Z3K5V0ZQ8X7N4T2M6P1R3S'))
    .action(async (app: string, fn: string, o: { follow?: boolean; tail: number; output?: string; call?: string }) => {
      await logsCommand({ app, fn, ...o }, await ctx());
    });
}
