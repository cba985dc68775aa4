import type { Command } from 'commander';
import { completionScript, SHELLS, type Shell } from './completion-script.js';
import { cliErrors } from '../../errors.js';
import type { CommandContext } from '../command-context.js';

/** `fnts completion bash|zsh`: prints a completion script generated from the program's commands. */
export async function completionCommand(opts: { shell: string }, ctx: CommandContext, program: Command): Promise<string> {
  if (!SHELLS.includes(opts.shell as Shell)) {
    throw cliErrors.usage(`no completion for shell "${opts.shell}"`, `use ${SHELLS.map((s) => `\`fnts completion ${s}\``).join(' or ')}`);
  }
  const script = completionScript(program, opts.shell as Shell);
  ctx.output.out(script);
  return script;
}
