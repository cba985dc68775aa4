import type { Command } from 'commander';
import type { ContextFactory } from '../command-context.js';
import { examples, INSPECT_OUTPUT_HELP, OUTPUT_HELP } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import type { CommandVerbs } from '../verbs.js';
import {
  createContextCommand, deleteContextCommand, inspectContextCommand, listContextsCommand, updateContextCommand,
  useContextCommand, type ContextFieldOptions,
} from './contexts.js';

/**
 * `fnts create|use|list|inspect|update|delete context` (CONTRACT §5.8). Their context is loaded leniently, so a
 * config.yaml naming a deleted context can still be repaired with `fnts use context default`.
 */
export function registerContextCommands(prog: Command, verbs: CommandVerbs, ctx: ContextFactory, full: CommandSelection): void {
  const lenient = () => ctx({ lenient: true });
  const CTX = ['ctx'];

  verbs.create?.command('context <name>').aliases(CTX).description('create a context: a server address and a registry to deploy to')
    .option('--api-url <url>', 'the fnts (or Fn) server (default http://127.0.0.1:8080)')
    .option('--registry <registry>', 'push images here on deploy, as <registry>/<name>:<version> (host[:port][/namespace])')
    .option('--api-key <key>', 'send this key to the server on every request (FNTS_API_KEY overrides it)')
    .addHelpText('after', examples(
      'fnts create context prod --api-url https://fn.example.com --registry registry.example.com:5000/team',
      'fnts create context local --api-url http://127.0.0.1:8080',
    ))
    .action(async (name: string, o: ContextFieldOptions) => void (await createContextCommand({ ...o, name }, await lenient())));

  const use = prog.command('use').description('switch to a context');
  if (full('use')) {
    use.addHelpText('after', examples('fnts use context prod'))
      .command('context <name>').aliases(CTX).description('make a context the current one (stored in ~/.fnts/config.yaml)')
      .addHelpText('after', examples('fnts use context prod', 'fnts use context default'))
      .action(async (name: string) => void (await useContextCommand({ name }, await lenient())));
  }

  verbs.list?.command('contexts').aliases(['context', 'ctx']).description('list contexts; * marks the current one')
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list contexts', 'fnts list contexts --output json'))
    .action(async (o: { output?: string }) => void (await listContextsCommand(o, await lenient())));

  verbs.inspect?.command('context [name] [field]').aliases(CTX).description('print a context (the current one by default) as JSON, or one field')
    .option('--output <format>', INSPECT_OUTPUT_HELP)
    .addHelpText('after', examples('fnts inspect context', 'fnts inspect context prod api-url'))
    .action(async (name: string | undefined, field: string | undefined, o: { output?: string }) =>
      void (await inspectContextCommand({ ...o, ...(name ? { name } : {}), ...(field ? { field } : {}) }, await lenient())));

  verbs.update?.command('context <name>').aliases(CTX).description("change a context's server address, registry or API key")
    .option('--api-url <url>', 'the fnts (or Fn) server')
    .option('--registry <registry>', 'push images here on deploy; "" removes it so images stay on the local engine')
    .option('--api-key <key>', 'send this key to the server on every request; "" removes it')
    .addHelpText('after', examples('fnts update context prod --registry registry.example.com:5000/team', 'fnts update context default --registry ""'))
    .action(async (name: string, o: ContextFieldOptions) => void (await updateContextCommand({ ...o, name }, await lenient())));

  verbs.del?.command('context <name>').aliases(CTX).description('delete a context (not the current one)')
    .addHelpText('after', examples('fnts delete context staging'))
    .action(async (name: string) => void (await deleteContextCommand({ name }, await lenient())));
}
