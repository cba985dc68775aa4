import type { ChildProcess } from 'node:child_process';

/** A spawned fnts server's printed output, and the URL from its `fnts server listening on <url>` line. */
export interface ListeningServer {
  url: string;
  /** Everything the process printed on stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then resolves with the exit code once the process has exited. */
  stop(): Promise<number | null>;
}

/**
 * Collects a spawned server's stdout and stderr (spawned with `stdio: [..., 'pipe', 'pipe']`) and resolves once it
 * prints its listening line; rejects, with what it printed, if it exits first or stays silent for `timeoutMs`.
 */
export function waitForListening(child: ChildProcess, timeoutMs = 20_000): Promise<ListeningServer> {
  let printed = '';
  child.stderr?.on('data', (d: Buffer) => (printed += d.toString()));
  const output = () => printed;
  const stop = () =>
    new Promise<number | null>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
      child.once('exit', (code) => done(code));
      child.kill('SIGTERM');
    });
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs / 1000} s:\n${printed}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      printed += d.toString();
      const m = /fnts server listening on (https?:\/\/\S+)/.exec(printed);
      if (m?.[1]) {
        clearTimeout(timer);
        resolveUrl({ url: m[1], output, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${printed}`));
    });
  });
}
