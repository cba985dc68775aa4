import type { Output } from '../output.js';
import type { CliSettings } from '../settings.js';

/** What every command gets: where it runs, where it writes, and the settings. */
export interface CommandContext {
  cwd: string;
  output: Output;
  settings: CliSettings;
  verbose?: boolean;
}

/** What a command asks of its context when its action runs. */
export interface ContextRequest {
  /** Tolerate a missing or broken current context (the context commands, so they can repair it). */
  lenient?: boolean;
  /** The command shows long steps (build, deploy): spinners on a terminal. */
  steps?: boolean;
}

/** Makes the context of the command being run; the registrations call it inside their actions. */
export type ContextFactory = (request?: ContextRequest) => Promise<CommandContext>;
