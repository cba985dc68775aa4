import type { Command } from 'commander';
import {
  configAppCommand, createAppCommand, deleteAppCommand, inspectAppCommand, listAppsCommand, unsetAppConfigCommand,
  updateAppCommand, type AppFieldOptions,
} from './commands/apps.js';
import type { CommandContext } from './commands/context.js';
import {
  configFnCommand, createFnCommand, deleteFnCommand, inspectFnCommand, listFnsCommand, unsetFnConfigCommand,
  updateFnCommand, type FnFieldOptions,
} from './commands/fns.js';
import {
  createTriggerCommand, deleteTriggerCommand, inspectTriggerCommand, listTriggersCommand, updateTriggerCommand,
} from './commands/triggers.js';
import { collect, parseIntFlag } from './pairs.js';

/**
 * The management commands (CONTRACT §5.8): create, list, inspect, update, delete, config and unset config, for apps,
 * functions and triggers, with the Fn CLI's names and aliases. Each action only maps arguments onto a command function.
 * Streams (src/stream-commands.ts) and contexts (src/context-commands.ts) add themselves to the same groups.
 */

// Fn's names for each object: `fnts create function` and `fnts create fn` are the same command.
const APP = ['a'];
const FN = ['function', 'func', 'f'];
const TRIGGER = ['trig', 'tr', 't'];

export const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`;
const OUTPUT_HELP = 'json: machine-readable JSON (default: a table)';

function appFieldOptions(cmd: Command): Command {
  return cmd
    .option('--config <KEY=VALUE>', 'config passed to every function of the app as env (repeatable)', collect)
    .option('--annotation <KEY=VALUE>', 'annotation; VALUE is JSON when it parses, else text (repeatable)', collect)
    .option('--syslog-url <url>', 'where function logs go (tcp://, udp://, unix://, unixgram://, tcp+tls://)');
}

function fnFieldOptions(cmd: Command): Command {
  return cmd
    .option('-m, --memory <MiB>', 'memory limit in MiB (1-8192, default 128)', parseIntFlag('--memory'))
    .option('--timeout <seconds>', 'longest a call may run (1-300, default 30)', parseIntFlag('--timeout'))
    .option('--idle-timeout <seconds>', 'how long an idle container is kept (1-3600, default 30)', parseIntFlag('--idle-timeout'))
    .option('-c, --config <KEY=VALUE>', 'config passed to the function as env (repeatable)', collect)
    .option('--annotation <KEY=VALUE>', 'annotation; VALUE is JSON when it parses, else text (repeatable)', collect);
}

/** The command groups other registrations add to (contexts live in the same create/list/... groups). */
export interface CommandGroups {
  create: Command;
  list: Command;
  inspect: Command;
  update: Command;
  del: Command;
}

export function registerResourceCommands(prog: Command, ctx: () => CommandContext): CommandGroups {
  const create = prog.command('create').description('create an app, function, trigger, stream or context')
    .addHelpText('after', examples('fnts create app myapp', 'fnts create fn myapp hello hello:0.0.1', 'fnts create trigger myapp hello hello --source /hello', 'fnts create stream orders --partitions 4'));
  appFieldOptions(create.command('app <name>').aliases(APP).description('create an app'))
    .addHelpText('after', examples('fnts create app myapp', 'fnts create app myapp --config DB_URL=postgres://db/app'))
    .action(async (name: string, o: AppFieldOptions) => void (await createAppCommand({ ...o, name }, ctx())));
  fnFieldOptions(create.command('fn <app> <name> <image>').aliases(FN).description('create a function from an image'))
    .addHelpText('after', examples('fnts create fn myapp hello hello:0.0.2', 'fnts create function myapp hello hello:0.0.2 --memory 256 --config GREETING=hi'))
    .action(async (app: string, name: string, image: string, o: FnFieldOptions) =>
      void (await createFnCommand({ ...o, app, name, image }, ctx())));
  create.command('trigger <app> <fn> <name>').aliases(TRIGGER).description('create a trigger that calls a function')
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
      void (await createTriggerCommand({ ...o, app, fn, name }, ctx())));

  const list = prog.command('list').alias('ls').description('list apps, functions, triggers, streams or contexts')
    .addHelpText('after', examples('fnts list apps', 'fnts list fns myapp --output json', 'fnts list triggers myapp', 'fnts list streams'));
  list.command('apps').aliases(['app', 'a']).description('list apps')
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list apps', 'fnts list apps --output json'))
    .action(async (o: { output?: string }) => void (await listAppsCommand(o, ctx())));
  list.command('fns <app>').aliases(['functions', 'funcs', 'fs', 'fn', 'function']).description("list an app's functions")
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list fns myapp', 'fnts list functions myapp --output json'))
    .action(async (app: string, o: { output?: string }) => void (await listFnsCommand({ ...o, app }, ctx())));
  list.command('triggers <app> [fn]').aliases(['trigger', 'trigs', ...TRIGGER]).description("list an app's or a function's triggers")
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list triggers myapp', 'fnts list triggers myapp hello --output json'))
    .action(async (app: string, fn: string | undefined, o: { output?: string }) =>
      void (await listTriggersCommand({ ...o, app, ...(fn === undefined ? {} : { fn }) }, ctx())));

  const inspect = prog.command('inspect').description('print an app, function, trigger, stream or context, or one field of it')
    .addHelpText('after', examples('fnts inspect app myapp', 'fnts inspect fn myapp hello id', 'fnts inspect trigger myapp hello hello', 'fnts inspect stream orders offsets'));
  const field = (f: string | undefined) => (f === undefined ? {} : { field: f });
  inspect.command('app <name> [field]').aliases(APP).description('print an app as JSON, or one field')
    .option('--output <format>', 'json: print a string field as JSON too')
    .addHelpText('after', examples('fnts inspect app myapp', 'fnts inspect app myapp id', 'fnts inspect app myapp config'))
    .action(async (name: string, f: string | undefined, o: { output?: string }) =>
      void (await inspectAppCommand({ ...o, name, ...field(f) }, ctx())));
  inspect.command('fn <app> <fn> [field]').aliases(FN).description('print a function as JSON, or one field')
    .option('--output <format>', 'json: print a string field as JSON too')
    .addHelpText('after', examples('fnts inspect fn myapp hello', 'fnts inspect fn myapp hello image', 'fnts inspect fn myapp hello annotations.fnproject.io/fn/invokeEndpoint'))
    .action(async (app: string, fn: string, f: string | undefined, o: { output?: string }) =>
      void (await inspectFnCommand({ ...o, app, fn, ...field(f) }, ctx())));
  inspect.command('trigger <app> <fn> <name> [field]').aliases(TRIGGER).description('print a trigger as JSON, or one field')
    .option('--output <format>', 'json: print a string field as JSON too')
    .addHelpText('after', examples('fnts inspect trigger myapp hello hello', 'fnts inspect trigger myapp hello hello annotations'))
    .action(async (app: string, fn: string, name: string, f: string | undefined, o: { output?: string }) =>
      void (await inspectTriggerCommand({ ...o, app, fn, name, ...field(f) }, ctx())));

  const update = prog.command('update').description('change an app, function, trigger, stream or context (config, annotations and options are merged)')
    .addHelpText('after', examples('fnts update app myapp --config LOG_LEVEL=debug', 'fnts update fn myapp hello --memory 256', 'fnts update trigger myapp hello hello --source /greet', 'fnts update stream orders --retention 12h'));
  appFieldOptions(update.command('app <name>').aliases(APP).description('change an app'))
    .addHelpText('after', examples('fnts update app myapp --config LOG_LEVEL=debug', 'fnts update app myapp --syslog-url ""   # clears it'))
    .action(async (name: string, o: AppFieldOptions) => void (await updateAppCommand({ ...o, name }, ctx())));
  fnFieldOptions(update.command('fn <app> <fn>').aliases(FN).description('change a function'))
    .option('--image <image>', 'new image, with a tag')
    .addHelpText('after', examples('fnts update fn myapp hello --image hello:0.0.3', 'fnts update function myapp hello --memory 256 --timeout 60'))
    .action(async (app: string, fn: string, o: FnFieldOptions & { image?: string }) =>
      void (await updateFnCommand({ ...o, app, fn }, ctx())));
  update.command('trigger <app> <fn> <name>').aliases(TRIGGER).description('change a trigger')
    .option('-s, --source <source>', 'new source: a path for http (a leading / is added), a stream for stream')
    .option('--option <KEY=VALUE>', 'stream trigger option to change; VALUE is JSON when it parses, else text (repeatable)', collect)
    .option('--annotation <KEY=VALUE>', 'annotation; VALUE is JSON when it parses, else text (repeatable)', collect)
    .addHelpText('after', examples('fnts update trigger myapp hello hello --source /greet', 'fnts update trigger myapp orders orders --option batch_size=1000'))
    .action(async (app: string, fn: string, name: string, o: { source?: string; annotation?: string[]; option?: string[] }) =>
      void (await updateTriggerCommand({ ...o, app, fn, name }, ctx())));

  const del = prog.command('delete').description('delete an app (with its functions and triggers), a function, a trigger, a stream or a context')
    .addHelpText('after', examples('fnts delete trigger myapp hello hello', 'fnts delete fn myapp hello', 'fnts delete app myapp', 'fnts delete stream orders'));
  del.command('app <name>').aliases(APP).description('delete an app, its functions and their triggers')
    .addHelpText('after', examples('fnts delete app myapp'))
    .action(async (name: string) => deleteAppCommand({ name }, ctx()));
  del.command('fn <app> <fn>').aliases(FN).description('delete a function and its triggers')
    .addHelpText('after', examples('fnts delete fn myapp hello'))
    .action(async (app: string, fn: string) => deleteFnCommand({ app, fn }, ctx()));
  del.command('trigger <app> <fn> <name>').aliases(TRIGGER).description('delete a trigger')
    .addHelpText('after', examples('fnts delete trigger myapp hello hello'))
    .action(async (app: string, fn: string, name: string) => deleteTriggerCommand({ app, fn, name }, ctx()));

  const config = prog.command('config').alias('cf').description('set one config key of an app or function')
    .addHelpText('after', examples('fnts config app myapp DB_URL postgres://db/app', 'fnts config fn myapp hello GREETING hi'));
  config.command('app <app> <key> <value>').aliases(APP).description("set one of an app's config keys")
    .addHelpText('after', examples('fnts config app myapp DB_URL postgres://db/app'))
    .action(async (app: string, key: string, value: string) => void (await configAppCommand({ app, key, value }, ctx())));
  config.command('fn <app> <fn> <key> <value>').aliases(FN).description("set one of a function's config keys")
    .addHelpText('after', examples('fnts config fn myapp hello GREETING hi'))
    .action(async (app: string, fn: string, key: string, value: string) =>
      void (await configFnCommand({ app, fn, key, value }, ctx())));

  const unset = prog.command('unset').description('remove settings')
    .addHelpText('after', examples('fnts unset config app myapp DB_URL', 'fnts unset config fn myapp hello GREETING'));
  const unsetConfig = unset.command('config').alias('cf').description('remove one config key of an app or function')
    .addHelpText('after', examples('fnts unset config app myapp DB_URL', 'fnts unset config fn myapp hello GREETING'));
  unsetConfig.command('app <app> <key>').aliases(APP).description("remove one of an app's config keys")
    .addHelpText('after', examples('fnts unset config app myapp DB_URL'))
    .action(async (app: string, key: string) => void (await unsetAppConfigCommand({ app, key }, ctx())));
  unsetConfig.command('fn <app> <fn> <key>').aliases(FN).description("remove one of a function's config keys")
    .addHelpText('after', examples('fnts unset config fn myapp hello GREETING'))
    .action(async (app: string, fn: string, key: string) => void (await unsetFnConfigCommand({ app, fn, key }, ctx())));
  return { create, list, inspect, update, del };
}
