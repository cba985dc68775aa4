import type { Command, Option } from 'commander';
import { ApiClient } from '../../client.js';
import type { CommandContext } from '../command-context.js';

/**
 * `fnts __complete -- WORDS…`: the names of apps, functions, triggers, streams or contexts for the word after WORDS
 * (the words typed after `fnts`, the one being completed left out), one per line, for the completion scripts. It walks
 * the same command tree the scripts are generated from, so it knows which argument the next word is; it asks the
 * server with a short deadline and prints nothing when the word is no name, or on any error (completion must never
 * print an error into the user's command line).
 */

export type NameKind = 'app' | 'fn' | 'trigger' | 'stream' | 'context';

/** What the next word names, and the app and function typed before it (for a function's or trigger's name). */
export interface NameSlot {
  kind: NameKind;
  app?: string;
  fn?: string;
}

/** How long completion waits for the server, in all: a slow answer is worse than none while typing. */
export const COMPLETE_TIMEOUT_MS = 1500;

/** Commands whose `<name>` argument names an existing object of this kind (under `create`, a new one: no completion). */
const NAME_ARGUMENT: Readonly<Record<string, NameKind>> = {
  app: 'app', trigger: 'trigger', status: 'trigger', pause: 'trigger', resume: 'trigger', seek: 'trigger', redrive: 'trigger',
  stream: 'stream', put: 'stream', tail: 'stream', context: 'context',
};

/** Options whose value names an object (`fnts deploy --app <TAB>`). */
const NAME_OPTION: Readonly<Record<string, NameKind>> = { '--app': 'app' };

/** The kind an argument of `cmd` names, if it names something that exists. */
export function argumentKind(cmd: Command, argument: string): NameKind | undefined {
  if (argument === 'app') return 'app';
  if (argument === 'fn') return 'fn';
  if (argument !== 'name' || cmd.parent?.name() === 'create') return undefined;
  return NAME_ARGUMENT[cmd.name()];
}

/** Whether a command takes any name (an argument or an option value): the scripts ask `__complete` only for these. */
export function takesNames(cmd: Command): boolean {
  return cmd.registeredArguments.some((a) => argumentKind(cmd, a.name()) !== undefined)
    || cmd.options.some((o) => o.long !== undefined && NAME_OPTION[o.long] !== undefined);
}

function findOption(cmd: Command, word: string): Option | undefined {
  const flag = word.split('=')[0];
  for (let c: Command | null = cmd; c; c = c.parent) {
    const found = c.options.find((o) => o.long === flag || o.short === flag);
    if (found) return found;
  }
  return undefined;
}

/** Which name, if any, the word after `words` is, walking the program's commands, options and arguments. */
export function nameSlot(program: Command, words: readonly string[]): NameSlot | undefined {
  let cmd = program;
  const positional: string[] = [];
  let valueOf: Option | undefined;
  for (const word of words) {
    if (valueOf) {
      valueOf = undefined;
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      const option = findOption(cmd, word);
      // `--app x` takes the next word; `--app=x` and flags do not.
      if (option && (option.required || option.optional) && !word.includes('=')) valueOf = option;
      continue;
    }
    const sub = positional.length === 0 ? cmd.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
    if (sub) cmd = sub;
    else positional.push(word);
  }
  if (valueOf) {
    const kind = valueOf.long ? NAME_OPTION[valueOf.long] : undefined;
    return kind ? { kind } : undefined;
  }
  const args = cmd.registeredArguments;
  const argument = args[positional.length] ?? (args.at(-1)?.variadic ? args.at(-1) : undefined);
  const kind = argument && argumentKind(cmd, argument.name());
  if (!kind) return undefined;
  const named = (name: string) => {
    const i = args.findIndex((a) => a.name() === name);
    return i >= 0 && i < positional.length ? positional[i] : undefined;
  };
  const app = named('app');
  const fn = named('fn');
  return { kind, ...(app === undefined ? {} : { app }), ...(fn === undefined ? {} : { fn }) };
}

/** The names for a slot, from the server (or the local contexts), sorted; none when something is missing. */
export async function namesFor(slot: NameSlot, ctx: CommandContext, signal: AbortSignal): Promise<string[]> {
  if (slot.kind === 'context') {
    const { listContexts } = await import('../../context-store.js');
    return listContexts(ctx.settings.homeDir).map((c) => c.name);
  }
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey, signal);
  if (slot.kind === 'app') return sorted((await client.listApps()).map((a) => a.name));
  if (slot.kind === 'stream') return sorted((await client.listStreams()).map((s) => s.name));
  if (slot.app === undefined) return [];
  const app = await client.findApp(slot.app);
  if (!app) return [];
  if (slot.kind === 'fn') return sorted((await client.listFns(app.id)).map((f) => f.name));
  if (slot.fn === undefined) return [];
  const fn = await client.findFn(app.id, slot.fn);
  return fn ? sorted((await client.listTriggers({ appId: app.id, fnId: fn.id })).map((t) => t.name)) : [];
}

const sorted = (names: string[]) => [...new Set(names)].sort();

/** `fnts __complete`: prints the names for the word after `words`, or nothing. Never throws. */
export async function completeNamesCommand(words: readonly string[], program: Command, ctx: () => Promise<CommandContext>): Promise<string[]> {
  const signal = AbortSignal.timeout(COMPLETE_TIMEOUT_MS);
  try {
    const slot = nameSlot(program, words);
    if (!slot) return [];
    const context = await ctx();
    const names = await namesFor(slot, context, signal);
    if (names.length > 0) context.output.out(`${names.join('\n')}\n`);
    return names;
  } catch {
    // A server that is down, slow or refuses the key, or a broken context: no names, and nothing printed.
    return [];
  }
}
