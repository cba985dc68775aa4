// Log frames (CONTRACT §1.6), written when they are needed: a call's frame line goes to stdout or stderr just
// before the first thing the process prints there after the call began, not at every call's start. A call that
// prints nothing then costs no output at all (every byte a container prints travels through Docker to the server,
// which measurably slowed every hot call), and every line printed still follows the frame of the call that was
// running, which is how the platform tags it.
//
// Seen: `process.stdout` and `process.stderr` (so `console.*`) and `fs.writeSync` on descriptors 1 and 2 (the way
// to write a flood without queueing it in memory). Not seen: a child process sharing the descriptors, native code;
// what they print is tagged with the last frame written.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

type StreamWrite = NodeJS.WriteStream['write'];
type WriteSync = typeof fs.writeSync;

const STDOUT = 1;
const STDERR = 2;

export class LazyLogFrames {
  private pending: string | undefined;
  /** The frame last written to each descriptor. */
  private readonly written = new Map<number, string>();
  /** The hooks installed, to notice when something (a test's spy, say) replaced one. */
  private readonly hooks = new Map<NodeJS.WriteStream, StreamWrite>();
  private writeSyncHook: WriteSync | undefined;

  constructor(private readonly streams: readonly [NodeJS.WriteStream, number][] = [[process.stdout, STDOUT], [process.stderr, STDERR]]) {}

  /** A call began: `line` is written before the next output on each descriptor. */
  begin(line: string): void {
    this.pending = line;
    this.install();
  }

  /**
   * Puts the hooks in place (again, if something replaced one) with no frame due. Done once ahead of the first call
   * too: in a fresh process the first touch of process.stdout and process.stderr builds both streams, about 4 ms
   * that the first call would otherwise pay.
   */
  install(): void {
    for (const [stream, fd] of this.streams) {
      if (stream.write !== this.hooks.get(stream)) this.hookStream(stream, fd);
    }
    if (fs.writeSync !== this.writeSyncHook) this.hookWriteSync();
  }

  /** The frame `fd` still needs before its next output, if any. */
  private due(fd: number, chunk: unknown): string | undefined {
    const frame = this.pending;
    if (frame === undefined || this.written.get(fd) === frame) return undefined;
    return (chunk as { length?: number } | undefined)?.length === 0 ? undefined : frame;
  }

  private hookStream(stream: NodeJS.WriteStream, fd: number): void {
    const original = stream.write as (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) => boolean;
    const due = (c: unknown) => this.due(fd, c);
    const written = this.written;
    const hook = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const frame = due(chunk);
      if (frame !== undefined) {
        written.set(fd, frame); // first: a stream backed by fs.writeSync must not frame twice
        original.call(this, frame);
      }
      return original.call(this, chunk, ...rest);
    };
    // `write` has several overloads; the hook passes every argument through unchanged.
    this.hooks.set(stream, hook as StreamWrite);
    stream.write = hook as StreamWrite;
  }

  private hookWriteSync(): void {
    const original = fs.writeSync;
    const hook = (fd: number, ...rest: unknown[]): number => {
      if (fd === STDOUT || fd === STDERR) {
        const frame = this.due(fd, rest[0]);
        if (frame !== undefined) {
          // Marked only once written: an EAGAIN thrown here reaches the caller, who retries, and so does the frame.
          original(fd, frame);
          this.written.set(fd, frame);
        }
      }
      return (original as (fd: number, ...r: unknown[]) => number)(fd, ...rest);
    };
    this.writeSyncHook = hook as WriteSync;
    fs.writeSync = hook as WriteSync;
    syncBuiltinESMExports(); // so `import { writeSync } from 'node:fs'` sees the hook too
  }
}
