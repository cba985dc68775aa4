/**
 * Which top-level commands to build in full (options, help texts, subcommands) for one command line. Building all of
 * them costs about as much as the rest of a short command such as `fnts list apps`, which needs only `list` (and of
 * `list`, every object); the others are still added by name, arguments and description, so the tree lists them all.
 */
export type CommandSelection = (command: string) => boolean;

/** Every top-level command in full: for help, completion, and a word that names no command (its suggestions). */
export const WHOLE_TREE: CommandSelection = () => true;

/** Each word that names a top-level command, with the command's name; a test checks it against the program. */
export const COMMAND_WORDS: Readonly<Record<string, string>> = {
  init: 'init', build: 'build', bump: 'bump', deploy: 'deploy', invoke: 'invoke', logs: 'logs', start: 'start', keys: 'keys',
  completion: 'completion', create: 'create', list: 'list', ls: 'list', inspect: 'inspect', update: 'update',
  delete: 'delete', config: 'config', cf: 'config', unset: 'unset', stream: 'stream', trigger: 'trigger',
  triggers: 'trigger', use: 'use', get: 'get', version: 'version', __complete: '__complete',
};

/** The top-level command a command line (after `fnts`) runs, if it names one; the global options take no value. */
export function commandNamedBy(args: readonly string[]): string | undefined {
  const word = args.find((a) => !a.startsWith('-'));
  return word === undefined ? undefined : COMMAND_WORDS[word];
}

/** The selection for a command line: its own command only, or the whole tree (completion walks all of it). */
export function selectionFor(args: readonly string[]): CommandSelection {
  const name = commandNamedBy(args);
  return name === undefined || name === 'completion' || name === '__complete' ? WHOLE_TREE : (command) => command === name;
}
