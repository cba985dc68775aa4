/**
 * Bounds on what a function prints, applied before anything is kept or logged: lines have a maximum length
 * (longer ones are split, each piece but the last marked `continues`), and what reaches the server log is
 * rate-bounded per container (the excess is counted and reported, never buffered). Nothing here holds more
 * than one line's worth of bytes, whatever the function writes.
 */

/** One piece of a function's output line: `continues` when the line went on past the maximum length. */
export interface OutputPiece {
  text: string;
  continues: boolean;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Bytes of a UTF-8 continuation (10xxxxxx): a cut there would split a character. */
function isContinuationByte(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

/**
 * Splits a byte stream into lines of at most `maxBytes` (not counting the newline). A longer line is cut
 * at a character boundary; pieces before the last carry `continues: true`. `\r\n` ends a line like `\n`.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly emit: (piece: OutputPiece) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      this.append(chunk.subarray(start, end));
      if (nl === -1) return;
      this.flush(false);
      start = nl + 1;
    }
  }

  /** Emits what is left of an unterminated last line. */
  end(): void {
    if (this.pendingBytes > 0) this.flush(false);
  }

  /** Adds bytes of the current line, emitting full pieces as soon as they reach the maximum. */
  private append(bytes: Buffer): void {
    let rest = bytes;
    while (this.pendingBytes + rest.length > this.maxBytes) {
      let take = this.maxBytes - this.pendingBytes;
      // Back off to a character boundary (at most 3 bytes), unless that would leave nothing to emit.
      let back = take;
      while (back > 0 && isContinuationByte(rest[back])) back--;
      if (back > 0 || this.pendingBytes > 0) take = back;
      this.pending.push(rest.subarray(0, take));
      this.pendingBytes += take;
      rest = rest.subarray(take);
      this.flush(true);
    }
    if (rest.length > 0) {
      // Copy: the chunk may be a slice of a larger buffer that would otherwise stay alive.
      this.pending.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
    }
  }

  private flush(continues: boolean): void {
    let line = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    if (!continues && line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    this.pending = [];
    this.pendingBytes = 0;
    this.emit({ text: line.toString('utf8'), continues });
  }
}

/** A count of output kept out of the server log in one window. */
export interface Suppressed {
  lines: number;
  bytes: number;
}

/**
 * A per-container budget for the server log: `bytesPerSecond` in each one-second window. Lines past it are
 * dropped and counted; the count is reported once, when the window in which they were dropped closes.
 */
export class ServerLogBound {
  private windowStart = 0;
  private used = 0;
  private dropped: Suppressed = { lines: 0, bytes: 0 };
  private reportTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly report: (s: Suppressed) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a line of `bytes` may go to the server log now; false counts it as suppressed. */
  admit(bytes: number): boolean {
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.used = 0;
    }
    // Each entry costs its envelope (time, ids, level) as well as its text: many empty lines are not free.
    const cost = bytes + ENTRY_OVERHEAD;
    if (this.used + cost <= this.bytesPerSecond) {
      this.used += cost;
      return true;
    }
    this.dropped.lines++;
    this.dropped.bytes += bytes;
    if (!this.reportTimer) {
      this.reportTimer = setTimeout(() => this.flush(), Math.max(1, 1000 - (t - this.windowStart)));
      this.reportTimer.unref();
    }
    return false;
  }

  /** Reports what is still counted (the container ended) and stops the timer. */
  flush(): void {
    clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    if (this.dropped.lines === 0) return;
    const d = this.dropped;
    this.dropped = { lines: 0, bytes: 0 };
    this.report(d);
  }
}

/** Roughly what one JSON log entry adds around a line's text. */
const ENTRY_OVERHEAD = 128;
