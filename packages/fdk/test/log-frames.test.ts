import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { LazyLogFrames } from '../src/log-frames.js';

const originalWriteSync = fs.writeSync;

afterEach(() => {
  // The frames hook fs.writeSync for the whole process; the tests here put it back.
  fs.writeSync = originalWriteSync;
  syncBuiltinESMExports();
});

/** A stand-in for process.stdout: records what is written, in order. */
function fakeStream(): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const write = (chunk: unknown): boolean => {
    written.push(String(chunk));
    return true;
  };
  const stream = { write } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('log frames', () => {
  it('installed ahead of any call, the hooks pass output through unframed until a call begins', () => {
    const { stream, written } = fakeStream();
    // Not descriptor 1 or 2, so fs.writeSync's hook leaves this worker's own output alone.
    const frames = new LazyLogFrames([[stream, 901]]);
    frames.install();
    const hooked = stream.write;
    stream.write('loaded\n');
    frames.begin('\nfnts_call_id=A\n');
    expect(stream.write).toBe(hooked); // begin found the hooks in place
    stream.write('one');
    stream.write('two');
    frames.begin('\nfnts_call_id=B\n');
    stream.write('three');
    expect(written).toEqual(['loaded\n', '\nfnts_call_id=A\n', 'one', 'two', '\nfnts_call_id=B\n', 'three']);
  });

  it('a call that prints nothing writes no frame', () => {
    const { stream, written } = fakeStream();
    const frames = new LazyLogFrames([[stream, 902]]);
    frames.install();
    frames.begin('\nfnts_call_id=A\n');
    frames.begin('\nfnts_call_id=B\n');
    stream.write('x');
    expect(written).toEqual(['\nfnts_call_id=B\n', 'x']);
  });
});
