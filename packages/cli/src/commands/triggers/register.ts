import type { Command } from 'commander';
import { collect, parseIntFlag } from '../../pairs.js';
import type { ContextFactory } from '../command-context.js';
import { examples, INSPECT_OUTPUT_HELP, OUTPUT_HELP } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import { TRIGGER_ALIASES, type CommandVerbs } from '../verbs.js';
import {
  createTriggerCommand, deleteTriggerCommand, inspectTriggerCommand, listTriggersCommand, updateTriggerCommand,
} from './triggers.js';
import {
  pauseTriggerCommand, redriveTriggerCommand, resumeTriggerCommand, seekTriggerCommand, triggerStatusCommand,
} from './trigger-control.js';

/** `fnts create|list|inspect|update|delete trigger`. */
export function registerTriggerCommands(verbs: CommandVerbs, ctx: ContextFactory): void {
  verbs.create?.command('trigger <app> <fn> <name>').aliases(TRIGGER_ALIASES).description('create a trigger that calls a function')
    .option('-t, --type <type>', 'trigger type: http, or stream (one call per batch of a stream partition\'s messages)', 'http')
    .option('-s, --source <source>', 'http: the path after /t/<app> (a leading / is added); stream: the stream name, or kafka://host:port/topic')
    .option('--option <KEY=VALUE>', 'stream trigger option (batch_size, start_position, …); VALUE is JSON when it parses, else text (repeatable)', collect)
    .option('--annotation <KEY=VALUE>', 'annotation; VALUE is JSON when it parses, else text (repeatable)', collect)
    .addHelpText('after', examples(
      'fnts create trigger myapp hello hello --type http --source /hello',
      'curl http://127.0.0.1:8080/t/myapp/hello',
      'fnts create trigger myapp orders orders --type stream --source orders --option start_position=earliest --option batch_size=500',
    ))
    .action(async (app: string, fn: string, name: string, o: { type?: string; source?: string; annotation?: string[]; option?: string[] }) =>
      void (await createTriggerCommand({ ...o, app, fn, name }, await ctx())));

  verbs.list?.command('triggers <app> [fn]').aliases(['trigger', 'trigs', ...TRIGGER_ALIASES]).description("list an app's or a function's triggers")
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list triggers myapp', 'fnts list triggers myapp hello --output json'))
    .action(async (app: string, fn: string | undefined, o: { output?: string }) =>
      void (await listTriggersCommand({ ...o, app, ...(fn === undefined ? {} : { fn }) }, await ctx())));

  verbs.inspect?.command('trigger <app> <fn> <name> [field]').aliases(TRIGGER_ALIASES).description('print a trigger as JSON, or one field')
    .option('--output <format>', INSPECT_OUTPUT_HELP)
    .addHelpText('after', examples('fnts inspect trigger myapp hello hello', 'fnts inspect trigger myapp hello hello annotations'))
    .action(async (app: string, fn: string, name: string, f: string | undefined, o: { output?: string }) =>
      void (await inspectTriggerCommand({ ...o, app, fn, name, ...(f === undefined ? {} : { field: f }) }, await ctx())));

  verbs.update?.command('trigger <app> <fn> <name>').aliases(TRIGGER_ALIASES).description('change a trigger')
    .option('-s, --source <source>', 'new source: a path for http (a leading / is added), a stream for stream')
    .option('--option <KEY=VALUE>', 'stream trigger option to change; VALUE is JSON when it parses, else text (repeatable)', collect)
    .option('--annotation <KEY=VALUE>', 'annotation; VALUE is JSON when it parses, else text (repeatable)', collect)
    .addHelpText('after', examples('fnts update trigger myapp hello hello --source /greet', 'fnts update trigger myapp orders orders --option batch_size=1000'))
    .action(async (app: string, fn: string, name: string, o: { source?: string; annotation?: string[]; option?: string[] }) =>
      void (await updateTriggerCommand({ ...o, app, fn, name }, await ctx())));

  verbs.del?.command('trigger <app> <fn> <name>').aliases(TRIGGER_ALIASES).description('delete a trigger')
    .addHelpText('after', examples('fnts delete trigger myapp hello hello'))
    .action(async (app: string, fn: string, name: string) => deleteTriggerCommand({ app, fn, name }, await ctx()));
}

/** `fnts trigger status|pause|resume|seek|redrive`: the control of stream triggers. */
export function registerTriggerControlCommands(
  prog: Command, ctx: ContextFactory, setExitCode: (code: number) => void, full: CommandSelection,
): void {
  const trigger = prog.command('trigger').aliases(['triggers']).description('control a stream trigger: status, pause, resume, seek, redrive');
  if (!full('trigger')) return;
  trigger.addHelpText('after', examples('fnts trigger status demo orders orders', 'fnts trigger pause demo orders orders'));
  const ref = (app: string, fn: string, name: string) => ({ app, fn, name });

  trigger.command('status <app> <fn> <name>')
    .description('per partition: committed offset, end offset, lag in records and seconds, state and last error')
    .option('--output <format>', "json: the server's status as it is (in-flight range, last success, dead-letter counts too)")
    .addHelpText('after', examples('fnts trigger status demo orders orders', 'fnts trigger status demo orders orders --output json'))
    .action(async (app: string, fn: string, name: string, o: { output?: string }) =>
      void (await triggerStatusCommand({ ...ref(app, fn, name), ...o }, await ctx())));

  trigger.command('pause <app> <fn> <name>').description('stop delivering batches (the batch in flight is fenced and delivered again later)')
    .addHelpText('after', examples('fnts trigger pause demo orders orders'))
    .action(async (app: string, fn: string, name: string) => void (await pauseTriggerCommand(ref(app, fn, name), await ctx())));

  trigger.command('resume <app> <fn> <name>').description('deliver again from the committed offsets')
    .addHelpText('after', examples('fnts trigger resume demo orders orders'))
    .action(async (app: string, fn: string, name: string) => void (await resumeTriggerCommand(ref(app, fn, name), await ctx())));

  trigger.command('seek <app> <fn> <name>')
    .description("move a paused trigger's read position, for every partition or one")
    .option('--to <position>', 'earliest, latest, an ISO 8601 time (2026-01-31T12:00:00Z) or milliseconds since 1970')
    .option('--offset <PARTITION:OFFSET>', 'start this partition at this offset (repeatable)', collect)
    .option('--partition <p>', 'with --to: move only this partition', parseIntFlag('--partition'))
    .addHelpText('after', examples(
      'fnts trigger pause demo orders orders && fnts trigger seek demo orders orders --to earliest',
      'fnts trigger seek demo orders orders --to 2026-01-31T12:00:00Z --partition 2',
      'fnts trigger seek demo orders orders --offset 0:120 --offset 1:98 && fnts trigger resume demo orders orders',
    ))
    .action(async (app: string, fn: string, name: string, o: { to?: string; offset?: string[]; partition?: number }) =>
      void (await seekTriggerCommand({ ...ref(app, fn, name), ...o }, await ctx())));

  trigger.command('redrive <app> <fn> <name>')
    .description("send the trigger's dead letters back to its function, in order, until one fails again")
    .option('--output <format>', 'json: print {redriven, remaining, error?}')
    .addHelpText('after', examples('fnts trigger redrive demo orders orders'))
    .action(async (app: string, fn: string, name: string, o: { output?: string }) => {
      const result = await redriveTriggerCommand({ ...ref(app, fn, name), ...o }, await ctx());
      if (result.error) setExitCode(1);
    });
}
