#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '@fnts/server';
import { buildCommand } from './commands/build.js';
import type { CommandContext } from './commands/context.js';
import { deployCommand } from './commands/deploy.js';
import { initCommand } from './commands/init.js';
import { invokeCommand, MAX_INVOKE_BODY } from './commands/invoke.js';
import { logsCommand } from './commands/logs.js';
import { startCommand } from './commands/start.js';
import { CliError } from './errors.js';
import { processOutput } from './output.js';
import { parseIntFlag } from './pairs.js';
import { registerResourceCommands } from './resource-commands.js';
import { loadSettings } from './settings.js';

/** Reads stdin when it is piped; an interactive terminal means no body. */
async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INVOKE_BODY) throw new CliError('FNTS_ERR_USAGE', `stdin is larger than ${MAX_INVOKE_BODY} bytes`, undefined, 2);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function program(): Command {
  const prog = new Command('fnts')
    .description('fnts: build, deploy and invoke functions on an Fn-compatible server')
    .option('-v, --verbose', 'show build output and stack traces')
    .showHelpAfterError();
  const ctx = (): CommandContext => ({
    cwd: process.cwd(),
    output: processOutput,
    settings: loadSettings(),
    verbose: Boolean(prog.opts<{ verbose?: boolean }>().verbose),
  });

  prog
    .command('init [dir]')
    .description('create func.yaml and a hello-world function')
    .option('--runtime <runtime>', 'typescript or node', 'typescript')
    .option('--name <name>', 'function name (default: the directory name)')
    .option('--force', 'overwrite an existing func.yaml')
    .option('--trigger <type>', 'add a trigger named after the function at /<name> (http)')
    .addHelpText('after', '\nExamples:\n  fnts init hello\n  fnts init --runtime node --name greeter\n  fnts init hello --trigger http')
    .action(async (dir: string | undefined, o: { runtime?: string; name?: string; force?: boolean; trigger?: string }) => {
      await initCommand({ ...o, ...(dir ? { dir } : {}) }, ctx());
    });

  prog
    .command('build [dir]')
    .description('build the function image')
    .option('--no-cache', 'build without Docker cache')
    .addHelpText('after', '\nExample:\n  fnts build')
    .action(async (dir: string | undefined, o: { cache: boolean }) => {
      await buildCommand({ ...(dir ? { dir } : {}), noCache: !o.cache }, ctx());
    });

  prog
    .command('deploy [dir]')
    .description('build, bump the version, and create or update the function and its func.yaml triggers on the server')
    .requiredOption('--app <app>', 'the app to deploy to')
    .option('--create-app', 'create the app if it does not exist')
    .option('--no-bump', 'keep the version in func.yaml')
    .option('--no-cache', 'build without Docker cache')
    .addHelpText('after', '\nExample:\n  fnts deploy --app myapp --create-app')
    .action(async (dir: string | undefined, o: { app: string; createApp?: boolean; bump: boolean; cache: boolean }) => {
      await deployCommand(
        { ...(dir ? { dir } : {}), app: o.app, createApp: Boolean(o.createApp), bump: o.bump, noCache: !o.cache },
        ctx(),
      );
    });

  prog
    .command('invoke <app> <fn>')
    .description('call a function with stdin as the body and print its response')
    .option('--content-type <type>', 'Content-Type of the request', 'text/plain')
    .option('--endpoint <url>', 'call this URL instead of looking the function up')
    .option('--display-call-id', 'print the call id first')
    .option('--output <format>', 'json: print status, headers and body as JSON')
    .addHelpText('after', `\nExample:\n  echo '{"name":"fnts"}' | fnts invoke myapp hello`)
    .action(async (app: string, fn: string, o: { contentType: string; endpoint?: string; displayCallId?: boolean; output?: string }) => {
      const body = await readStdin();
      process.exitCode = await invokeCommand({ app, fn, ...o, body }, ctx());
    });

  prog
    .command('logs <app> <fn>')
    .description("print a function's recent output (stdout and stderr), with call ids")
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--tail <n>', 'how many recent lines to start with (at most 1000)', parseIntFlag('--tail'), 100)
    .option('--output <format>', 'json: one JSON object per line')
    .addHelpText('after', '\nExamples:\n  fnts logs myapp hello\n  fnts logs myapp hello --follow')
    .action(async (app: string, fn: string, o: { follow?: boolean; tail: number; output?: string }) => {
      await logsCommand({ app, fn, ...o }, ctx());
    });

  prog
    .command('start')
    .description('run the fnts server in the foreground')
    .option('--port <port>', 'port to listen on (default 8080, FNTS_PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, FNTS_HOST)')
    .option('--db <path>', 'SQLite file (default ~/.fnts/data/fnts.db, FNTS_DB)')
    .addHelpText('after', '\nExample:\n  fnts start --port 8080')
    .action(async (o: { port?: string; host?: string; db?: string }) => {
      await startCommand(o);
    });

  registerResourceCommands(prog, ctx);
  return prog;
}

const prog = program();
prog.parseAsync(process.argv).catch((err: unknown) => {
  const verbose = Boolean(prog.opts<{ verbose?: boolean }>().verbose);
  if (err instanceof CliError) {
    process.stderr.write(`Error: ${err.message}\n${err.hint ? `Hint: ${err.hint}\n` : ''}`);
    if (verbose) process.stderr.write(`${err.stack}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`Error: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`fnts crashed; this is a bug, please report it:\n${(err as Error).stack ?? String(err)}\n`);
  process.exit(70);
});
