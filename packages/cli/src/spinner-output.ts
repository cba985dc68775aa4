import ora from 'ora';
import { processOutput, type Output } from './output.js';

/**
 * The process output with ora spinners on stderr: only on a terminal, and never for machine-readable output or
 * when Docker's build output is streamed (`--verbose`), where a spinner would tear the lines. main.ts loads this module
 * (and ora with it) only for the commands that show long steps (build, deploy).
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
