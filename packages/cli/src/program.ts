import { Argument, Command } from 'commander';
import { buildCommand } from './commands/build.js';
import { bumpCommand } from './commands/bump.js';
import { completionCommand } from './commands/completion.js';
import { SHELLS } from './completion.js';
import type { CommandContext } from './commands/context.js';
import { deployCommand } from './commands/deploy.js';
import { initCommand } from './commands/init.js';
import { invokeCommand, readBody } from './commands/invoke.js';
import { keysCreateCommand } from './commands/keys.js';
import { logsCommand } from './commands/logs.js';
import { startCommand } from './commands/start.js';
import { registerContextCommands } from './context-commands.js';
import { collect, parseIntFlag } from './pairs.js';
import { examples, registerResourceCommands } from './resource-commands.js';
import { registerStreamCommands } from './stream-commands.js';

/** What the program needs from its surroundings; main.ts passes the real process, tests can pass their own. */
export interface ProgramEnv {
  /** A context for one command; `json` (machine output) turns spinners off, `lenient` tolerates a bad context. */
  context(opts: { verbose: boolean; json: boolean; lenient?: boolean }): CommandContext;
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

/** The whole `fnts` command tree. Actions only map arguments onto the command functions in src/commands/. */
export function buildProgram(env: ProgramEnv): Command {
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
  const ctx = (o: { lenient?: boolean } = {}): CommandContext =>
    env.context({ verbose: Boolean(prog.opts<{ verbose?: boolean }>().verbose), json, ...(o.lenient ? { lenient: true } : {}) });
  const dirOpt = (dir: string | undefined) => (dir ? { dir } : {});

  prog
    .command('init [dir]')
    .description('create func.yaml and a hello-world function')
    .option('--runtime <runtime>', 'typescript or node', 'typescript')
    .option('--name <name>', 'function name (default: the directory name)')
    .option('--force', 'overwrite an existing func.yaml')
    .option('--trigger <type>', 'add a trigger named after the function at /<name> (http)')
    .addHelpText('after', examples('fnts init hello', 'fnts init --runtime node --name greeter', 'fnts init hello --trigger http'))
    .action(async (dir: string | undefined, o: { runtime?: string; name?: string; force?: boolean; trigger?: string }) => {
      await initCommand({ ...o, ...dirOpt(dir) }, ctx());
    });

  prog
    .command('build [dir]')
    .description('build the function image (never pushes)')
    .option('--no-cache', 'build without Docker cache')
    .option('--build-arg <KEY=VALUE>', 'build argument for a Dockerfile (runtime docker; repeatable)', collect)
    .option('--output <format>', 'json: print the image, layer size and copied native packages as JSON')
    .addHelpText('after', examples('fnts build', 'fnts build hello --no-cache', 'fnts build --build-arg NODE_ENV=production --verbose'))
    .action(async (dir: string | undefined, o: { cache: boolean; buildArg?: string[]; output?: string }) => {
      await buildCommand({ ...dirOpt(dir), noCache: !o.cache, ...(o.buildArg ? { buildArg: o.buildArg } : {}), ...(o.output ? { output: o.output } : {}) },
        ctx());
    });

  prog
    .command('bump [dir]')
    .description("raise func.yaml's version (patch by default), keeping comments and other keys")
    .option('--major', 'bump the major version: 1.4.2 → 2.0.0')
    .option('--minor', 'bump the minor version: 1.4.2 → 1.5.0')
    .addHelpText('after', examples('fnts bump', 'fnts bump --minor', 'fnts bump hello --major'))
    .action(async (dir: string | undefined, o: { major?: boolean; minor?: boolean }) => {
      await bumpCommand({ ...dirOpt(dir), ...o }, ctx());
    });

  prog
    .command('deploy [dir]')
    .description("build, push (with a registry), bump func.yaml's version, and create or update the function and its triggers")
    .option('--app <app>', "the app to deploy to (default: app.yaml's name)")
    .option('--create-app', 'create the app if it does not exist')
    .option('--all', 'deploy every function directory below (needs app.yaml)')
    .option('--local', "build only, don't push: the server uses this machine's Docker engine (the default without a registry)")
    .option('--prune', "remove the function's config keys and triggers that are no longer in func.yaml")
    .option('--no-bump', 'keep the version in func.yaml')
    .option('--no-cache', 'build without Docker cache')
    .option('--build-arg <KEY=VALUE>', 'build argument for a Dockerfile (runtime docker; repeatable)', collect)
    .option('--output <format>', 'json: print what was deployed as JSON')
    .addHelpText('after', examples(
      'fnts deploy --app myapp --create-app',
      'fnts deploy --all              # in a directory with app.yaml',
      'fnts deploy --app myapp --prune --local',
    ))
    .action(async (dir: string | undefined, o: {
      app?: string; createApp?: boolean; all?: boolean; local?: boolean; prune?: boolean; bump: boolean; cache: boolean;
      buildArg?: string[]; output?: string;
    }) => {
      const { cache, ...rest } = o;
      await deployCommand({ ...dirOpt(dir), ...rest, noCache: !cache }, ctx());
    });

  prog
    .command('invoke <app> <fn>')
    .description('call a function with stdin as the body (at most 10 MiB) and print its response')
    .option('--content-type <type>', "Content-Type of the request (default: func.yaml's content_type here, else text/plain)")
    .option('--endpoint <url>', 'call this URL instead of looking the function up')
    .option('--display-call-id', 'print the call id first')
    .option('--output <format>', 'json: print status_code, headers and body as JSON')
    .addHelpText('after', examples(
      `echo '{"name":"fnts"}' | fnts invoke myapp hello --content-type application/json`,
      'fnts invoke myapp hello --display-call-id',
      'fnts invoke myapp hello --output json < request.json',
    ))
    .action(async (app: string, fn: string, o: { contentType?: string; endpoint?: string; displayCallId?: boolean; output?: string }) => {
      const body = await env.readStdin();
      env.setExitCode(await invokeCommand({ app, fn, ...o, body }, ctx()));
    });

  prog
    .command('logs <app> <fn>')
    .description("print a function's recent output (stdout and stderr), with call ids")
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--tail <n>', 'how many recent lines to start with (at most 1000)', parseIntFlag('--tail'), 100)
    .option('--output <format>', 'json: one JSON object per line')
    .addHelpText('after', examples('fnts logs myapp hello', 'fnts logs myapp hello --follow'))
    .action(async (app: string, fn: string, o: { follow?: boolean; tail: number; output?: string }) => {
      await logsCommand({ app, fn, ...o }, ctx());
    });

  prog
    .command('start')
    .description('run the fnts server in the foreground')
    .option('--port <port>', 'port to listen on (default 8080, FNTS_PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, FNTS_HOST)')
    .option('--db <path>', 'SQLite file (default ~/.fnts/data/fnts.db, FNTS_DB)')
    .option('--api-keys-file <file>', 'require API keys: one `sha256:<hex> [scope]` line each, made by `fnts keys create` (FNTS_API_KEYS_FILE)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate chain (FNTS_TLS_CERT); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key for --tls-cert (FNTS_TLS_KEY)')
    .option('--insecure-no-auth', 'listen beyond loopback without API keys anyway (FNTS_INSECURE_NO_AUTH)')
    .addHelpText('after', examples(
      'fnts start',
      'fnts start --port 8080 --db ./fnts.db',
      'fnts start --host 0.0.0.0 --api-keys-file /etc/fnts/keys --tls-cert cert.pem --tls-key key.pem',
    ))
    .action(async (o: { port?: string; host?: string; db?: string; apiKeysFile?: string; tlsCert?: string; tlsKey?: string; insecureNoAuth?: boolean }) => {
      await startCommand(o);
    });

  prog
    .command('keys')
    .description('API keys for a server')
    .addHelpText('after', examples('fnts keys create --scope invoke --name web'))
    .command('create')
    .description("make a random API key: prints the key once, and the line for the server's keys file")
    .option('--scope <scope>', 'admin (everything), invoke (/invoke and triggers that require a key) or metrics (/metrics)', 'admin')
    .option('--name <name>', 'a one-word name kept on the line, for the server log')
    .option('--output <format>', 'json: print {key, scope, line} as JSON')
    .addHelpText('after', examples(
      'fnts keys create --scope invoke --name web',
      'fnts keys create --output json',
    ))
    .action(async (o: { scope?: string; name?: string; output?: string }) => void (await keysCreateCommand(o, ctx({ lenient: true }))));

  prog
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
    .description('print a shell completion script (bash or zsh)')
    .addHelpText('after', examples(
      'source <(fnts completion bash)                 # now; add it to ~/.bashrc to keep it',
      'fnts completion zsh > "${fpath[1]}/_fnts"     # zsh, then restart the shell',
    ))
    .action(async (shell: string) => void (await completionCommand({ shell }, ctx(), prog)));

  const groups = registerResourceCommands(prog, () => ctx());
  registerStreamCommands(prog, groups, () => ctx(), {
    stdin: () => env.openStdin(),
    interruption: () => env.interruption(),
    setExitCode: (code) => env.setExitCode(code),
  });
  registerContextCommands(prog, groups, (o) => ctx(o));
  return prog;
}
