import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

/**
 * Socket dirs (CONTRACT §1.2): each container gets a fresh host dir, bind-mounted at /tmp/iofs and writable by the
 * function, which must create its socket there. So that a function cannot fill the host's disk through it, the dir
 * is a size-limited tmpfs of its own when the server may mount (it runs as root, as it usually must to own Docker's
 * socket); otherwise it is a plain dir and the server warns once at its first container.
 */
let mountRefused: string | undefined;
let warned = false;

/** Inodes a socket dir may hold: the phony socket and its symlink, with room to spare. */
const MAX_INODES = 64;

/** Creates a socket dir under `parent`, mode 0777 (the FDK runs as uid 1000), on a tmpfs of `sizeBytes` when possible. */
export async function createSocketDir(parent: string, sizeBytes: number, log: Logger): Promise<string> {
  const dir = socketDirPath(parent);
  await prepareSocketDir(dir, sizeBytes, log);
  return dir;
}

/** A fresh socket dir's path under `parent`, not yet created (prepareSocketDir makes it). */
export function socketDirPath(parent: string): string {
  return join(parent, `iofs${randomBytes(8).toString('hex')}`);
}

/**
 * Makes the socket dir `dir` (see createSocketDir). It may run while the container is created: the engine may make the
 * bind's source dir itself, so an existing dir is taken as it is.
 */
export async function prepareSocketDir(dir: string, sizeBytes: number, log: Logger): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (mountRefused === undefined && process.getuid?.() === 0) {
    try {
      const options = `size=${sizeBytes},nr_inodes=${MAX_INODES},mode=0777,nosuid,nodev,noexec`;
      await run('mount', ['-t', 'tmpfs', '-o', options, 'fnts-iofs', dir]);
    } catch (err) {
      mountRefused = (err as Error).message.split('\n')[0] ?? 'mount failed';
    }
  } else {
    mountRefused ??= 'the server does not run as root';
  }
  if (mountRefused !== undefined && !warned) {
    warned = true;
    log.warn({ reason: mountRefused }, 'socket dirs are not size-limited: a function can write to the host disk through /tmp/iofs');
  }
  await chmod(dir, 0o777);
}

/** Whether socket dirs are size-limited tmpfs mounts (known after the first one was created). */
export function socketDirsLimited(): boolean {
  return mountRefused === undefined;
}

/** Unmounts (when mounted) and removes a socket dir; never throws. */
export async function removeSocketDir(dir: string): Promise<void> {
  await unmountIfMounted(dir);
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/** Mount points at or below `root`, from /proc/self/mounts (its fields escape spaces as \040). */
async function mountsUnder(path: string): Promise<string[]> {
  let table: string;
  let root: string;
  try {
    table = await readFile('/proc/self/mounts', 'utf8');
    root = await realpath(path); // the table holds resolved paths
  } catch {
    return [];
  }
  return table
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((point) => point === root || point.startsWith(`${root}/`));
}

async function unmountIfMounted(dir: string): Promise<void> {
  if (mountRefused !== undefined && process.getuid?.() !== 0) return;
  for (const point of await mountsUnder(dir)) {
    // Lazy: a container still being removed may hold it a moment longer; the kernel frees it once released.
    await run('umount', ['-l', point]).catch(() => undefined);
  }
}

/** Unmounts every socket dir left under `root` by an earlier run (a crash), so the dirs can be removed. */
export async function unmountLeftovers(root: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (const point of (await mountsUnder(root)).reverse()) await run('umount', ['-l', point]).catch(() => undefined);
}
