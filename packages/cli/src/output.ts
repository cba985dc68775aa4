import ora from 'ora';

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

/**
 * The process output with ora spinners on stderr: only on a terminal, and never for machine-readable output or
 * when Docker's build output is streamed (`--verbose`), where a spinner would tear the lines.
 */
export function terminalOutput(opts: { spinners: boolean }): Output {
  // A terminal that reports no width (some pseudo-terminals) would make ora's line clearing loop forever.
  if (!opts.spinners || !process.stderr.isTTY || !(process.stderr.columns > 0)) return processOutput;
  let active: ReturnType<typeof ora> | undefined;
  return {
    out: processOutput.out,
    info: (text) => {
      if (!active?.isSpinning) return processOutput.info(text);
      // Print above the spinner, then bring it back.
      active.clear();
      process.stderr.write(text);
      active.render();
    },
    step: (text) => {
      const spinner = ora({ text, stream: process.stderr, discardStdin: false }).start();
      active = spinner;
      const end = () => {
        if (active === spinner) active = undefined;
      };
      return {
        update: (t) => void (spinner.text = t),
        succeed: (t) => {
          spinner.succeed(t ?? spinner.text);
          end();
        },
        fail: (t) => {
          if (t) spinner.fail(t);
          else spinner.stop();
          end();
        },
      };
    },
  };
}
