import type { Output } from '../output.js';
import type { CliSettings } from '../settings.js';

/** What every command gets: where it runs, where it writes, and the settings. */
export interface CommandContext {
  cwd: string;
  output: Output;
  settings: CliSettings;
  verbose?: boolean;
}
