/** The `Examples:` block after a command's help. */
export const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`;

/** The help of a listing command's --output option. */
export const OUTPUT_HELP = 'json: machine-readable JSON (default: a table)';

/** The help of an inspecting command's --output option. */
export const INSPECT_OUTPUT_HELP = 'json: print a string field as JSON too';
