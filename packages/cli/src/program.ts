import { Command } from 'commander';
import type { CommandContext, ContextRequest } from './commands/command-context.js';
import { registerAppCommands } from './commands/apps/register.js';
import { registerBuildCommand } from './commands/build/register.js';
import { registerBumpCommand } from './commands/bump/register.js';
import { registerCompletionCommand } from './commands/completion/register.js';
import { registerContextCommands } from './commands/contexts/register.js';
import { registerDeployCommand } from './commands/deploy/register.js';
import { registerFnCommands } from './commands/fns/register.js';
import { examples } from './commands/help-text.js';
import { registerInitCommand } from './commands/init/register.js';
import { readBody } from './commands/invoke/read-body.js';
import { registerInvokeCommand } from './commands/invoke/register.js';
import { registerLogsCommand } from './commands/logs/register.js';
import { registerStartCommand } from './commands/start/register.js';
import { registerStreamCommands } from './commands/streams/register.js';
import { registerTriggerCommands, registerTriggerControlCommands } from './commands/triggers/register.js';
import { registerVerbs, verbNamed, type VerbSelection } from './commands/verbs.js';

/** What the program needs from its surroundings; main.ts passes the real process, tests can pass their own. */
export interface ProgramEnv {
  /**
   * A context for one command; `json` (machine output) turns spinners off, `lenient` tolerates a bad context, `steps`
   * says the command shows long steps (spinners on a terminal).
   */
  context(opts: { verbose: boolean; json: boolean } & ContextRequest): CommandContext | Promise<CommandContext>;
  /** The request body for `invoke` (stdin when piped). */
  readStdin(): Promise<Buffer>;
  /** stdin as it arrives, for `stream put` (which reads it line by line), and whether it is a terminal. */
  openStdin(): { input: AsyncIterable<Buffer | string>; terminal: boolean };
  /** A signal that aborts on Ctrl-C (SIGINT) until released, so `stream tail --follow` can stop cleanly. */
  interruption(): { signal: AbortSignal; release(): void };
  setExitCode(code: number): void;
}

/** Ctrl-C aborts the signal (instead of killing the process) until `release`. */
export function processInterruption(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  return { signal: controller.signal, release: () => void process.removeListener('SIGINT', onSigint) };
}

/** Reads piped stdin up to the invoke limit; an interactive terminal means no body. */
export async function readProcessStdin(): Promise<Buffer> {
  return process.stdin.isTTY ? Buffer.alloc(0) : readBody(process.stdin);
}

/** Commands that never use the verbs' objects, so a run of one needs none of them built. */
const WITHOUT_VERBS = new Set(['init', 'build', 'bump', 'deploy', 'invoke', 'logs', 'start', 'stream', 'trigger', 'triggers', 'use']);

/**
 * Which verbs a command line needs with their objects: only its own verb for `fnts list apps`, none for
 * `fnts invoke …`, and all of them for help, completion, or a word that is no command (its suggestions).
 */
export function verbsNeededBy(args: readonly string[]): VerbSelection {
  const word = args.find((a) => !a.startsWith('-')); // the global options (-v, --json) take no value
  if (word !== undefined && WITHOUT_VERBS.has(word)) return 'none';
  return verbNamed(word) ?? 'all';
}

/**
 * The `fnts` command tree: each command group (src/commands/<group>/register.ts) adds its commands. Heavy dependencies
 * load only in the commands that use them (the server in `start`, the image builder in `build` and `deploy`, the Kafka
 * client for kafka:// names, ora for spinners, yaml when a file is read). With `args` (the command line after `fnts`),
 * only the part of the tree that command line can reach is built in full.
 */
export function buildProgram(env: ProgramEnv, args?: readonly string[]): Command {
  const prog = new Command('fnts')
    .description('fnts: build, deploy and invoke functions on an Fn-compatible server')
    .option('-v, --verbose', 'show Docker build output and stack traces')
    .option('--json', 'machine-readable output: the same as --output json, and no spinners')
    .showHelpAfterError()
    // Commander's own parse errors come back to main.ts as CommanderError (exit code 2 there), instead of exiting.
    .exitOverride()
    .addHelpText('after', examples('fnts init hello && cd hello', 'fnts deploy --app myapp --create-app', 'echo \'{"name":"fnts"}\' | fnts invoke myapp hello'));

  // --json anywhere means --output json for the commands that have --output; either turns spinners off.
  let json = false;
  prog.hook('preAction', (_root, action) => {
    const globalJson = Boolean(prog.opts<{ json?: boolean }>().json);
    if (globalJson && action.options.some((o) => o.long === '--output')) action.setOptionValue('output', 'json');
    json = globalJson || action.opts<{ output?: string }>().output === 'json';
  });
  const ctx = async (request: ContextRequest = {}): Promise<CommandContext> =>
    env.context({ verbose: Boolean(prog.opts<{ verbose?: boolean }>().verbose), json, ...request });

  // The order here is the order of `fnts --help`.
  registerInitCommand(prog, ctx);
  registerBuildCommand(prog, ctx);
  registerBumpCommand(prog, ctx);
  registerDeployCommand(prog, ctx);
  registerInvokeCommand(prog, ctx, { readStdin: () => env.readStdin(), setExitCode: (code) => env.setExitCode(code) });
  registerLogsCommand(prog, ctx);
  registerStartCommand(prog);
  registerCompletionCommand(prog, ctx);

  const verbs = registerVerbs(prog, args ? verbsNeededBy(args) : 'all');
  registerAppCommands(verbs, ctx);
  registerFnCommands(verbs, ctx);
  registerTriggerCommands(verbs, ctx);
  registerStreamCommands(prog, verbs, ctx, { stdin: () => env.openStdin(), interruption: () => env.interruption() });
  registerTriggerControlCommands(prog, ctx, (code) => env.setExitCode(code));
  registerContextCommands(prog, verbs, ctx);
  return prog;
}
