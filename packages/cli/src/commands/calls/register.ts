import { parseIntFlag } from '../../pairs.js';
import type { ContextFactory } from '../command-context.js';
import { examples, INSPECT_OUTPUT_HELP, OUTPUT_HELP } from '../help-text.js';
import type { CommandVerbs } from '../verbs.js';
import { callLogCommand, inspectCallCommand, listCallsCommand, MAX_LISTED_CALLS } from './calls.js';

/** `fnts list calls`, `fnts inspect call`, `fnts get logs` (Fn's `fn list calls` and `fn get logs`). */
export function registerCallCommands(verbs: CommandVerbs, ctx: ContextFactory): void {
  verbs.list?.command('calls <app> <fn>').alias('call').description("list a function's recent calls, newest first")
    .option('-n, --limit <n>', `how many calls at most (1-${MAX_LISTED_CALLS})`, parseIntFlag('--limit'), 30)
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list calls myapp hello', 'fnts list calls myapp hello --limit 100 --output json'))
    .action(async (app: string, fn: string, o: { limit: number; output?: string }) =>
      void (await listCallsCommand({ ...o, app, fn }, await ctx())));

  verbs.inspect?.command('call <app> <fn> <call_id> [field]').description("print one call's record as JSON, or one field")
    .option('--output <format>', INSPECT_OUTPUT_HELP)
    .addHelpText('after', examples('fnts inspect call myapp hello 01J9Z3K5V0ZQ8X7N4T2M6P1R3S', 'fnts inspect call myapp hello 01J9Z3K5V0ZQ8X7N4T2M6P1R3S error'))
    .action(async (app: string, fn: string, callId: string, field: string | undefined, o: { output?: string }) =>
      void (await inspectCallCommand({ ...o, app, fn, callId, ...(field === undefined ? {} : { field }) }, await ctx())));

  verbs.get?.command('logs <app> <fn> <call_id>').alias('log').description('print what one call printed (stdout and stderr)')
    .option('--output <format>', 'json: one JSON object per line')
    .addHelpText('after', examples('fnts get logs myapp hello 01J9Z3K5V0ZQ8X7N4T2M6P1R3S'))
    .action(async (app: string, fn: string, callId: string, o: { output?: string }) =>
      void (await callLogCommand({ ...o, app, fn, callId }, await ctx())));
}
