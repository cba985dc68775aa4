import { describe, expect, it } from 'vitest';
import { LineSplitter, ServerLogBound, type OutputPiece, type Suppressed } from '../src/agent/output.js';
import { LogHub, type LogLine } from '../src/agent/log-hub.js';

function split(max: number, chunks: (string | Buffer)[]): OutputPiece[] {
  const out: OutputPiece[] = [];
  const s = new LineSplitter(max, (p) => out.push(p));
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  s.end();
  return out;
}

describe('LineSplitter', () => {
  it('splits on newlines across chunks, dropping a \\r before the newline, and keeps blank lines', () => {
    expect(split(100, ['a\nb', 'c\r\n\nlast'])).toEqual([
      { text: 'a', continues: false }, { text: 'bc', continues: false }, { text: '', continues: false }, { text: 'last', continues: false },
    ]);
  });

  it('cuts a line past the maximum into pieces, marking all but the last', () => {
    expect(split(4, ['abcdefghij\nxy\n'])).toEqual([
      { text: 'abcd', continues: true }, { text: 'efgh', continues: true }, { text: 'ij', continues: false }, { text: 'xy', continues: false },
    ]);
  });

  it('never cuts a multi-byte character in half', () => {
    const pieces = split(4, ['aé€é\n']); // 1 + 2 + 3 + 2 bytes
    expect(pieces.map((p) => p.text).join('')).toBe('aé€é');
    for (const p of pieces) expect(Buffer.byteLength(p.text)).toBeLessThanOrEqual(4);
    expect(pieces.some((p) => p.text.includes('\uFFFD'))).toBe(false);
  });

  it('holds at most one line of bytes for output without any newline', () => {
    let pieces = 0;
    let longest = 0;
    let marked = 0;
    const s = new LineSplitter(1024, (p) => {
      longest = Math.max(longest, p.text.length);
      if (p.continues) marked++;
      pieces++;
    });
    const mib = Buffer.alloc(1024 * 1024, 'y');
    for (let i = 0; i < 64; i++) s.push(mib);
    expect(pieces).toBe(64 * 1024 - 1); // the last piece could still go on
    s.end();
    expect(pieces).toBe(64 * 1024);
    expect(marked).toBe(64 * 1024 - 1);
    expect(longest).toBe(1024);
  });
});

describe('ServerLogBound', () => {
  it('admits up to the rate per window, counts the excess and reports it once when the window closes', () => {
    let t = 0;
    const reports: Suppressed[] = [];
    const bound = new ServerLogBound(1000, (s) => reports.push(s), () => t);
    const admitted = Array.from({ length: 10 }, () => bound.admit(100)).filter(Boolean).length;
    expect(admitted).toBe(4); // each line costs its bytes plus the entry overhead (128)
    t = 1500;
    expect(bound.admit(100)).toBe(true);
    bound.flush();
    expect(reports).toEqual([{ lines: 6, bytes: 600 }]);
    bound.flush();
    expect(reports).toHaveLength(1);
  });
});

describe('LogHub ring', () => {
  const line = (i: number, text: string): LogLine => ({ time: '', app_id: 'a', fn_id: 'f', container: 'c', line: `${i}:${text}` });

  it('keeps the newest lines within its byte bound', () => {
    const hub = new LogHub(64 * 1024);
    for (let i = 0; i < 5000; i++) hub.publish(line(i, 'x'.repeat(1000)));
    const kept = hub.tail('f', 1000);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(40);
    expect(kept.at(-1)?.line.startsWith('4999:')).toBe(true);
    expect(hub.tail('f', 2).map((l) => l.line.split(':')[0])).toEqual(['4998', '4999']);
  });
});
