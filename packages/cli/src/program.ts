import { Command } from 'commander';
import type { CommandContext, ContextRequest } from './commands/command-context.js';
import { registerAppCommands } from './commands/apps/register.js';
import { registerBuildCommand } from './commands/build/register.js';
import { registerBumpCommand } from './commands/bump/register.js';
import { registerCallCommands } from './commands/calls/register.js';
import { registerCompletionCommand } from './commands/completion/register.js';
import { registerContextCommands } from './commands/contexts/register.js';
import { registerDeployCommand } from './commands/deploy/register.js';
import { registerFnCommands } from './commands/fns/register.js';
import { examples } from './commands/help-text.js';
import { registerInitCommand } from './commands/init/register.js';
import { readBody } from './commands/invoke/read-body.js';
import { registerInvokeCommand } from './commands/invoke/register.js';
import { registerKeysCommand } from './commands/keys/register.js';
import { registerLogsCommand } from './commands/logs/register.js';
import { registerStartCommand } from './commands/start/register.js';
import { registerStreamCommands } from './commands/streams/register.js';
import { registerTriggerCommands, registerTriggerControlCommands } from './commands/triggers/register.js';
import { selectionFor, WHOLE_TREE } from './commands/tree-selection.js';
import { registerVerbs } from './commands/verbs.js';
import { registerVersionCommand } from './commands/version/register.js';
import { CLI_VERSION } from './version.js';

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

/**
 * The `fnts` command tree: each command group (src/commands/<group>/register.ts) adds its commands. Heavy dependencies
 * load only in the commands that use them (the server in `start`, the image builder in `build` and `deploy`, the Kafka
 * client for kafka:// names, ora for spinners, yaml when a file is read). With `args` (the command line after `fnts`),
 * only the command that line runs is built in full (see tree-selection.ts).
 */
export function buildProgram(env: ProgramEnv, args?: readonly string[]): Command {
  const prog = new Command('fnts')
    .description('fnts: build, deploy and invoke functions on an Fn-compatible server')
    // -v stays --verbose (as before); the version is --version or -V, and `fnts version` adds the server's.
    .version(CLI_VERSION, '-V, --version', "print this client's version (`fnts version` adds the server's)")
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

  const full = args ? selectionFor(args) : WHOLE_TREE;
  // The order here is the order of `fnts --help`.
  registerInitCommand(prog, ctx, full);
  registerBuildCommand(prog, ctx, full);
  registerBumpCommand(prog, ctx, full);
  registerDeployCommand(prog, ctx, full);
  registerInvokeCommand(prog, ctx, { readStdin: () => env.readStdin(), setExitCode: (code) => env.setExitCode(code) }, full);
  registerLogsCommand(prog, ctx, full);
  registerStartCommand(prog, full);
  registerKeysCommand(prog, ctx, full);
  registerCompletionCommand(prog, ctx, full);
  registerVersionCommand(prog, ctx, full);

  const verbs = registerVerbs(prog, full);
  registerAppCommands(verbs, ctx);
  registerFnCommands(verbs, ctx);
  registerTriggerCommands(verbs, ctx);
  registerCallCommands(verbs, ctx);
  registerStreamCommands(prog, verbs, ctx, { stdin: () => env.openStdin(), interruption: () => env.interruption() }, full);
  registerTriggerControlCommands(prog, ctx, (code) => env.setExitCode(code), full);
  registerContextCommands(prog, verbs, ctx, full);
  return prog;
}
