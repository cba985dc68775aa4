#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError } from './errors.js';
import { processOutput } from './output.js';
import { buildProgram, processInterruption, readProcessStdin } from './program.js';
import { loadSettings } from './settings.js';

/**
 * The process entry: the only place that reads process-wide state for commands and calls process.exit. It loads as
 * little as it can (no server, no Docker or Kafka client, no spinners) so that `fnts list apps` starts about as fast
 * as node itself; each command loads what it needs.
 */
const prog = buildProgram({
  context: async ({ verbose, json, lenient, steps }) => ({
    cwd: process.cwd(),
    // Spinners only for commands with long steps, on a terminal, and never with JSON output or streamed build output.
    output: steps && !json && !verbose ? (await import('./spinner-output.js')).terminalOutput({ spinners: true }) : processOutput,
    settings: loadSettings(process.env, lenient ? { lenient: true } : {}),
    verbose,
  }),
  readStdin: readProcessStdin,
  openStdin: () => ({ input: process.stdin, terminal: Boolean(process.stdin.isTTY) }),
  interruption: processInterruption,
  setExitCode: (code) => void (process.exitCode = code),
}, process.argv.slice(2));

// `fnts` alone is asking what fnts can do: the help, on stdout, exit 0 (commander would print it as an error).
const run = process.argv.length <= 2 ? Promise.resolve(prog.outputHelp()) : prog.parseAsync(process.argv);
run.catch((err: unknown) => {
  const verbose = Boolean(prog.opts<{ verbose?: boolean }>().verbose);
  if (err instanceof CommanderError) {
    // Commander printed the message (and the help) already; --help and --version end here with 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof CliError) {
    process.stderr.write(`Error: ${err.message}\n${err.hint ? `Hint: ${err.hint}\n` : ''}`);
    if (verbose) process.stderr.write(`${err.stack}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`fnts crashed; this is a bug, please report it:\n${(err as Error).stack ?? String(err)}\n`);
  process.exit(70);
});
