/** Where a command writes: injected so tests can capture it. */
export interface Output {
  /** The command's result (stdout). */
  out(text: string): void;
  /** Progress and diagnostics (stderr). */
  info(text: string): void;
  /**
   * Shows a long step (a spinner on a terminal). Without it, or when spinners are off, a step is one `info` line.
   * The handle ends the step; `info` written while a step runs appears above it.
   */
  step?(text: string): Step;
}

export interface Step {
  /** Replaces the step's text. */
  update(text: string): void;
  /** Ends the step: a tick and the text (or the step's own text). */
  succeed(text?: string): void;
  /** Ends the step as failed, leaving no spinner behind. */
  fail(text?: string): void;
}

/** Starts a step on this output: a spinner when the output has them, else a plain `text...` line on stderr. */
export function startStep(output: Output, text: string): Step {
  if (output.step) return output.step(text);
  output.info(`${text}...\n`);
  return {
    update: (t) => output.info(`${t}...\n`),
    succeed: (t) => void (t ? output.info(`${t}\n`) : undefined),
    fail: () => undefined,
  };
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  info: (text) => void process.stderr.write(text),
};
