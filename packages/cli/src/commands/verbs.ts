import type { Command } from 'commander';
import { examples } from './help-text.js';
import type { CommandSelection } from './tree-selection.js';

/**
 * The Fn CLI's verbs (CONTRACT §5.8): `fnts create|list|inspect|update|delete|config|unset config <object>`, and
 * `fnts get logs` for one call's output. Each
 * command group adds its objects (apps, fns, triggers, streams, contexts, in that order) to the verbs present.
 */
export interface CommandVerbs {
  create?: Command;
  list?: Command;
  inspect?: Command;
  update?: Command;
  del?: Command;
  config?: Command;
  unsetConfig?: Command;
  get?: Command;
}

// Fn's names for each object: `fnts create function` and `fnts create fn` are the same command.
export const APP_ALIASES = ['a'];
export const FN_ALIASES = ['function', 'func', 'f'];
export const TRIGGER_ALIASES = ['trig', 'tr', 't'];

/**
 * Adds the verbs to the program; the answer holds the ones selected to be built in full, to which the groups add
 * their objects (`fnts list apps` builds `list`'s objects, not all 35).
 */
export function registerVerbs(prog: Command, full: CommandSelection): CommandVerbs {
  const create = prog.command('create').description('create an app, function, trigger, stream or context')
    .addHelpText('after', examples('fnts create app myapp', 'fnts create fn myapp hello hello:0.0.1', 'fnts create trigger myapp hello hello --source /hello', 'fnts create stream orders --partitions 4'));
  const list = prog.command('list').alias('ls').description("list apps, functions, triggers, streams, contexts or a function's calls")
    .addHelpText('after', examples('fnts list apps', 'fnts list fns myapp --output json', 'fnts list triggers myapp', 'fnts list streams'));
  const inspect = prog.command('inspect').description('print an app, function, trigger, stream, context or call, or one field of it')
    .addHelpText('after', examples('fnts inspect app myapp', 'fnts inspect fn myapp hello id', 'fnts inspect trigger myapp hello hello', 'fnts inspect stream orders offsets'));
  const update = prog.command('update').description('change an app, function, trigger, stream or context (config, annotations and options are merged)')
    .addHelpText('after', examples('fnts update app myapp --config LOG_LEVEL=debug', 'fnts update fn myapp hello --memory 256', 'fnts update trigger myapp hello hello --source /greet', 'fnts update stream orders --retention 12h'));
  const del = prog.command('delete').description('delete an app (with its functions and triggers), a function, a trigger, a stream or a context')
    .addHelpText('after', examples('fnts delete trigger myapp hello hello', 'fnts delete fn myapp hello', 'fnts delete app myapp', 'fnts delete stream orders'));
  const config = prog.command('config').alias('cf').description('set one config key of an app or function')
    .addHelpText('after', examples('fnts config app myapp DB_URL postgres://db/app', 'fnts config fn myapp hello GREETING hi'));
  const unset = prog.command('unset').description('remove settings')
    .addHelpText('after', examples('fnts unset config app myapp DB_URL', 'fnts unset config fn myapp hello GREETING'));
  const unsetConfig = unset.command('config').alias('cf').description('remove one config key of an app or function')
    .addHelpText('after', examples('fnts unset config app myapp DB_URL', 'fnts unset config fn myapp hello GREETING'));
  const get = prog.command('get').description("get a call's output")
    .addHelpText('after', examples('fnts get logs myapp hello 01J9Z3K5V0ZQ8X7N4T2M6P1R3S'));
  return {
    ...(full('get') ? { get } : {}),
    ...(full('create') ? { create } : {}),
    ...(full('list') ? { list } : {}),
    ...(full('inspect') ? { inspect } : {}),
    ...(full('update') ? { update } : {}),
    ...(full('delete') ? { del } : {}),
    ...(full('config') ? { config } : {}),
    ...(full('unset') ? { unsetConfig } : {}),
  };
}
