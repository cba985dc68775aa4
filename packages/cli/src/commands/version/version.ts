import { ApiClient } from '../../client.js';
import { CliError } from '../../errors.js';
import { CLI_VERSION } from '../../version.js';
import type { CommandContext } from '../command-context.js';
import { outputFormat, type ReadOptions } from '../print.js';

/** What `fnts version` found out: the server's version, or why it has none. */
export interface Versions {
  client: string;
  server: string | null;
  /** Set when the server did not answer with a version: the reason, for people. */
  server_error?: string;
}

/**
 * `fnts version`: the client's version, and the server's from `GET /version` (Fn's route). A server that does not
 * answer is reported, not failed on: the client's part is still an answer (exit 0).
 */
export async function versionCommand(opts: ReadOptions, ctx: CommandContext): Promise<Versions> {
  const format = outputFormat(opts.output);
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  let versions: Versions;
  try {
    versions = { client: CLI_VERSION, server: await client.serverVersion() };
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    versions = { client: CLI_VERSION, server: null, server_error: err.message };
  }
  if (format === 'json') {
    ctx.output.out(`${JSON.stringify(versions, null, 2)}\n`);
  } else {
    ctx.output.out(`client: ${versions.client}\n`);
    ctx.output.out(versions.server !== null
      ? `server: ${versions.server} (${ctx.settings.apiUrl})\n`
      : `server: unreachable (${versions.server_error})\n`);
  }
  return versions;
}
