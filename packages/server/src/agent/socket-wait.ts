import { SOCKET_NAME } from '@fnts/api/contract';
import { watch } from 'node:fs';
import { lstat, readlink, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export type SocketWaitResult = { kind: 'ready' } | { kind: 'invalid'; reason: string } | { kind: 'timeout' } | { kind: 'aborted' };

/** Checks that the socket path is a relative symlink (or a socket) that resolves to a socket (CONTRACT §1.3). */
async function check(path: string): Promise<SocketWaitResult | undefined> {
  let link;
  try {
    link = await lstat(path);
  } catch {
    return undefined; // not there yet
  }
  if (link.isSymbolicLink()) {
    const target = await readlink(path);
    if (dirname(target) !== '.') {
      return { kind: 'invalid', reason: 'invalid unix socket symlink, symlinks must be relative within the unix socket directory' };
    }
  }
  try {
    if ((await stat(path)).isSocket()) return { kind: 'ready' };
  } catch {
    // dangling symlink
  }
  return { kind: 'invalid', reason: 'listener path is not a unix socket' };
}

/**
 * Waits for the FDK to publish its socket in `dir`. The watch is set up before the caller starts the
 * container, so the creation event cannot be missed; a check after arming covers an early writer.
 */
export function armSocketWait(
  dir: string,
  /** The socket's name in `dir`: the function's, or a stem cell's loader (stem-cells.ts). */
  name = SOCKET_NAME,
): { wait(timeoutMs: number, signal: AbortSignal): Promise<SocketWaitResult>; close(): void } {
  const path = `${dir}/${name}`;
  let notify: (() => void) | undefined;
  let pending = false;
  const watcher = watch(dir, (_event, filename) => {
    if (filename === name) {
      pending = true;
      notify?.();
    }
  });
  watcher.on('error', () => {
    pending = true;
    notify?.();
  });
  return {
    close: () => watcher.close(),
    wait: (timeoutMs, signal) =>
      new Promise<SocketWaitResult>((resolve) => {
        let done = false;
        const finish = (r: SocketWaitResult) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          notify = undefined;
          watcher.close();
          resolve(r);
        };
        const onAbort = () => finish({ kind: 'aborted' });
        const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
        signal.addEventListener('abort', onAbort, { once: true });
        const probe = () => {
          pending = false;
          void check(path).then((r) => {
            if (r) finish(r);
            else if (pending) probe();
          });
        };
        notify = probe;
        probe();
      }),
  };
}
