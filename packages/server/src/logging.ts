import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import type { ServerConfig } from './config.js';
import { logFileFailure } from './startup-errors.js';

/** Where the server's log lines go and how they look, as decided from the config and whether stdout is a terminal. */
export type LogTarget =
  | { kind: 'file'; path: string }
  | { kind: 'pretty'; colors: boolean }
  | { kind: 'json' };

/** `--log-file` wins; else `pretty` when asked or (`auto`) when stdout is a terminal; else JSON on stdout. */
export function logTarget(config: Pick<ServerConfig, 'logFile' | 'logFormat'>, stdoutIsTerminal: boolean): LogTarget {
  if (config.logFile !== undefined) return { kind: 'file', path: config.logFile };
  if (config.logFormat === 'pretty' || (config.logFormat === 'auto' && stdoutIsTerminal)) return { kind: 'pretty', colors: stdoutIsTerminal };
  return { kind: 'json' };
}

/**
 * The server's logger. JSON lines are for machines (a file, a pipe, a log shipper); on a terminal the lines are
 * formatted by pino-pretty, loaded only then so that a server whose output is collected never pays for it.
 */
export async function createLogger(config: Pick<ServerConfig, 'logFile' | 'logFormat' | 'logLevel'>, stdoutIsTerminal: boolean): Promise<Logger> {
  const target = logTarget(config, stdoutIsTerminal);
  const options = { level: config.logLevel };
  if (target.kind === 'file') {
    let fd: number;
    try {
      // Opened here, synchronously, so that a path that cannot be written stops the start with one clear line.
      mkdirSync(dirname(target.path), { recursive: true });
      fd = openSync(target.path, 'a');
    } catch (err) {
      throw logFileFailure(err, target.path);
    }
    // Synchronous like pino's own stdout: the lines written just before a shutdown's process.exit are kept.
    return pino(options, pino.destination({ fd, sync: true }));
  }
  if (target.kind === 'pretty') {
    const { default: pretty } = await import('pino-pretty');
    // Synchronous: the last lines before a shutdown's process.exit must reach the terminal.
    return pino(options, pretty({
      colorize: target.colors, sync: true, destination: 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true,
    }));
  }
  return pino(options);
}
