import { FN_SETTING_LIMITS } from '@fnts/api/limits';
import type { Command } from 'commander';
import { collect, parseIntFlag } from '../../pairs.js';
import type { ContextFactory } from '../command-context.js';
import { examples, INSPECT_OUTPUT_HELP, OUTPUT_HELP } from '../help-text.js';
import { FN_ALIASES, type CommandVerbs } from '../verbs.js';
import {
  configFnCommand, createFnCommand, deleteFnCommand, inspectFnCommand, listFnsCommand, unsetFnConfigCommand,
  updateFnCommand, type FnFieldOptions,
} from './fns.js';

/** A setting's range and default as the server checks them, e.g. `1-8192, default 128`. */
function range(field: 'memory' | 'timeout' | 'idle_timeout'): string {
  const { min, max, default: fallback } = FN_SETTING_LIMITS[field];
  return `${min}-${max}, default ${fallback}`;
}

function fnFieldOptions(cmd: Command | undefined): Command | undefined {
  return cmd
    ?.option('-m, --memory <MiB>', `memory limit in MiB (${range('memory')})`, parseIntFlag('--memory'))
    .option('--timeout <seconds>', `longest a call may run (${range('timeout')})`, parseIntFlag('--timeout'))
    .option('--idle-timeout <seconds>', `how long an idle container is kept (${range('idle_timeout')})`, parseIntFlag('--idle-timeout'))
    .option('-c, --config <KEY=VALUE>', 'config passed to the function as env (repeatable)', collect)
    .option('--annotation <KEY=VALUE>', 'annotation; VALUE is JSON when it parses, else text (repeatable)', collect);
}

/** `fnts create|list|inspect|update|delete|config|unset config fn`. */
export function registerFnCommands(verbs: CommandVerbs, ctx: ContextFactory): void {
  fnFieldOptions(verbs.create?.command('fn <app> <name> <image>').aliases(FN_ALIASES).description('create a function from an image'))
    ?.addHelpText('after', examples('fnts create fn myapp hello hello:0.0.2', 'fnts create function myapp hello hello:0.0.2 --memory 256 --config GREETING=hi'))
    .action(async (app: string, name: string, image: string, o: FnFieldOptions) =>
      void (await createFnCommand({ ...o, app, name, image }, await ctx())));

  verbs.list?.command('fns <app>').aliases(['functions', 'funcs', 'fs', 'fn', 'function']).description("list an app's functions")
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list fns myapp', 'fnts list functions myapp --output json'))
    .action(async (app: string, o: { output?: string }) => void (await listFnsCommand({ ...o, app }, await ctx())));

  verbs.inspect?.command('fn <app> <fn> [field]').aliases(FN_ALIASES).description('print a function as JSON, or one field')
    .option('--output <format>', INSPECT_OUTPUT_HELP)
    .addHelpText('after', examples('fnts inspect fn myapp hello', 'fnts inspect fn myapp hello image', 'fnts inspect fn myapp hello annotations.fnproject.io/fn/invokeEndpoint'))
    .action(async (app: string, fn: string, f: string | undefined, o: { output?: string }) =>
      void (await inspectFnCommand({ ...o, app, fn, ...(f === undefined ? {} : { field: f }) }, await ctx())));

  fnFieldOptions(verbs.update?.command('fn <app> <fn>').aliases(FN_ALIASES).description('change a function'))
    ?.option('--image <image>', 'new image, with a tag')
    .addHelpText('after', examples('fnts update fn myapp hello --image hello:0.0.3', 'fnts update function myapp hello --memory 256 --timeout 60'))
    .action(async (app: string, fn: string, o: FnFieldOptions & { image?: string }) =>
      void (await updateFnCommand({ ...o, app, fn }, await ctx())));

  verbs.del?.command('fn <app> <fn>').aliases(FN_ALIASES).description('delete a function and its triggers')
    .addHelpText('after', examples('fnts delete fn myapp hello'))
    .action(async (app: string, fn: string) => deleteFnCommand({ app, fn }, await ctx()));

  verbs.config?.command('fn <app> <fn> <key> <value>').aliases(FN_ALIASES).description("set one of a function's config keys")
    .addHelpText('after', examples('fnts config fn myapp hello GREETING hi'))
    .action(async (app: string, fn: string, key: string, value: string) =>
      void (await configFnCommand({ app, fn, key, value }, await ctx())));

  verbs.unsetConfig?.command('fn <app> <fn> <key>').aliases(FN_ALIASES).description("remove one of a function's config keys")
    .addHelpText('after', examples('fnts unset config fn myapp hello GREETING'))
    .action(async (app: string, fn: string, key: string) => void (await unsetFnConfigCommand({ app, fn, key }, await ctx())));
}
