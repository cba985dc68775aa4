/** Where a command writes: injected so tests can capture it. */
export interface Output {
  /** The command's result (stdout). */
  out(text: string): void;
  /** Progress and diagnostics (stderr). */
  info(text: string): void;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  info: (text) => void process.stderr.write(text),
};
