import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { CliError } from './errors.js';
import { processOutput } from './output.js';
import { buildProgram, processInterruption, readProcessStdin } from './program.js';
import { loadSettings } from './settings.js';

/**
 * The CLI as a process: the one place that reads process-wide state for commands and calls process.exit. main.ts
 * runs it, and so does the bundled bin (scripts/bundle-bin.mjs). It loads as little as it can (no server, no Docker
 * or Kafka client, no spinners) so that `fnts list apps` starts about as fast as node itself; each command loads what
 * it needs.
 */
export function runCliProcess(argv: readonly string[]): void {
  prepareCliProcess(argv.slice(2))(argv);
}

/**
 * Builds the command tree, for the command line `args` (after `fnts`) or, without, in full; the answer runs it once
 * on `process.argv`. Nothing here reads the process before that run: the bin's V8 startup snapshot builds the whole
 * tree while the snapshot is made, long before the process that runs it starts.
 */
export function prepareCliProcess(args?: readonly string[]): (argv: readonly string[]) => void {
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
  }, args);

  return (argv) => {
    // `fnts` alone is asking what fnts can do: the help, on stdout, exit 0 (commander would print it as an error).
    const run = argv.length <= 2 ? Promise.resolve(prog.outputHelp()) : prog.parseAsync([...argv]);
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
  };
}

/**
 * Runs `fnts list apps` twice, each time on a command tree of its own with its output dropped, against a stand-in
 * server on loopback that answers every request with one app: first named by FNTS_API_URL (with a home that does not
 * exist), then by the current context of a config.yaml written into `home`. Nothing of the environment is read. The
 * bin runs it while its V8 startup snapshot is made, so that what a command such as `list apps` runs (parsing,
 * settings, YAML, the socket, the HTTP parser, the table) is compiled and warmed in the snapshot rather than on every
 * run; nothing it does stays in the tree the snapshot's run parses, and the server is closed before the snapshot is
 * taken.
 */
export async function warmUpCli(home: string): Promise<void> {
  const apps = JSON.stringify({ items: [{ id: '01WARMUP', name: 'warm-up' }], next_cursor: '' });
  const answer = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(apps)}\r\nconnection: close\r\n\r\n${apps}`;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end(answer));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  try {
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await listAppsSilently(join(home, 'missing'), { FNTS_API_URL: apiUrl });
    mkdirSync(join(home, 'contexts'), { recursive: true });
    writeFileSync(join(home, 'config.yaml'), 'current-context: warm-up\n');
    writeFileSync(join(home, 'contexts', 'warm-up.yaml'), `api-url: ${apiUrl}\n`);
    await listAppsSilently(home, {});
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

async function listAppsSilently(home: string, env: Record<string, string>): Promise<void> {
  const silent = { out: () => undefined, info: () => undefined };
  const args = ['list', 'apps'];
  const prog = buildProgram({
    context: () => ({ cwd: home, output: silent, settings: loadSettings(env, { homeDir: home }), verbose: false }),
    readStdin: async () => Buffer.alloc(0),
    openStdin: () => ({ input: (async function* () {})(), terminal: false }),
    interruption: () => ({ signal: new AbortController().signal, release: () => undefined }),
    setExitCode: () => undefined,
  }, args);
  await prog.parseAsync(args, { from: 'user' });
}
