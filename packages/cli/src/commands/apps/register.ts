import type { Command } from 'commander';
import { collect } from '../../pairs.js';
import type { ContextFactory } from '../command-context.js';
import { examples, INSPECT_OUTPUT_HELP, OUTPUT_HELP } from '../help-text.js';
import { APP_ALIASES, type CommandVerbs } from '../verbs.js';
import {
  configAppCommand, createAppCommand, deleteAppCommand, inspectAppCommand, listAppsCommand, unsetAppConfigCommand,
  updateAppCommand, type AppFieldOptions,
} from './apps.js';

function appFieldOptions(cmd: Command | undefined): Command | undefined {
  return cmd
    ?.option('--config <KEY=VALUE>', 'config passed to every function of the app as env (repeatable)', collect)
    .option('--annotation <KEY=VALUE>', 'annotation; VALUE is JSON when it parses, else text (repeatable)', collect)
    .option('--syslog-url <url>', 'where function logs go (tcp://, udp://, unix://, unixgram://, tcp+tls://)');
}

/** `fnts create|list|inspect|update|delete|config|unset config app`. */
export function registerAppCommands(verbs: CommandVerbs, ctx: ContextFactory): void {
  appFieldOptions(verbs.create?.command('app <name>').aliases(APP_ALIASES).description('create an app'))
    ?.addHelpText('after', examples('fnts create app myapp', 'fnts create app myapp --config DB_URL=postgres://db/app'))
    .action(async (name: string, o: AppFieldOptions) => void (await createAppCommand({ ...o, name }, await ctx())));

  verbs.list?.command('apps').aliases(['app', 'a']).description('list apps')
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list apps', 'fnts list apps --output json'))
    .action(async (o: { output?: string }) => void (await listAppsCommand(o, await ctx())));

  verbs.inspect?.command('app <name> [field]').aliases(APP_ALIASES).description('print an app as JSON, or one field')
    .option('--output <format>', INSPECT_OUTPUT_HELP)
    .addHelpText('after', examples('fnts inspect app myapp', 'fnts inspect app myapp id', 'fnts inspect app myapp config'))
    .action(async (name: string, f: string | undefined, o: { output?: string }) =>
      void (await inspectAppCommand({ ...o, name, ...(f === undefined ? {} : { field: f }) }, await ctx())));

  appFieldOptions(verbs.update?.command('app <name>').aliases(APP_ALIASES).description('change an app'))
    ?.addHelpText('after', examples('fnts update app myapp --config LOG_LEVEL=debug', 'fnts update app myapp --syslog-url ""   # clears it'))
    .action(async (name: string, o: AppFieldOptions) => void (await updateAppCommand({ ...o, name }, await ctx())));

  verbs.del?.command('app <name>').aliases(APP_ALIASES).description('delete an app, its functions and their triggers')
    .addHelpText('after', examples('fnts delete app myapp'))
    .action(async (name: string) => deleteAppCommand({ name }, await ctx()));

  verbs.config?.command('app <app> <key> <value>').aliases(APP_ALIASES).description("set one of an app's config keys")
    .addHelpText('after', examples('fnts config app myapp DB_URL postgres://db/app'))
    .action(async (app: string, key: string, value: string) => void (await configAppCommand({ app, key, value }, await ctx())));

  verbs.unsetConfig?.command('app <app> <key>').aliases(APP_ALIASES).description("remove one of an app's config keys")
    .addHelpText('after', examples('fnts unset config app myapp DB_URL'))
    .action(async (app: string, key: string) => void (await unsetAppConfigCommand({ app, key }, await ctx())));
}
