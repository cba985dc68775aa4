/** One line a function printed (or one piece of a line longer than the maximum: `continues` marks all but the last). */
export interface LogLine {
  time: string;
  app_id: string;
  fn_id: string;
  container: string;
  call_id?: string;
  line: string;
  continues?: true;
}

/** Roughly what a kept line costs besides its text (the object, its ids and time), so tiny lines count too. */
const LINE_OVERHEAD = 160;

function costOf(l: LogLine): number {
  return l.line.length * 2 + LINE_OVERHEAD; // UTF-16 in memory
}

/** A FIFO of lines bounded by total cost; dropping from the front is O(1) (head index, compacted now and then). */
class LineRing {
  private items: LogLine[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(l: LogLine): void {
    this.items.push(l);
    this.bytes += costOf(l);
    while (this.bytes > this.maxBytes && this.head < this.items.length) {
      this.bytes -= costOf(this.items[this.head] as LogLine);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  last(n: number): LogLine[] {
    return this.items.slice(Math.max(this.head, this.items.length - n));
  }
}

/**
 * Recent function output per function (a ring bounded in bytes, `FNTS_LOG_RING_BYTES`) plus live followers:
 * what `fnts logs` reads. The server log gets the same lines, rate-bounded per container (agent/output.ts).
 */
export class LogHub {
  private readonly recent = new Map<string, LineRing>();
  private readonly followers = new Map<string, Set<(l: LogLine) => void>>();

  constructor(private readonly ringBytes = 1024 * 1024) {}

  publish(l: LogLine): void {
    let ring = this.recent.get(l.fn_id);
    if (!ring) this.recent.set(l.fn_id, (ring = new LineRing(this.ringBytes)));
    ring.push(l);
    for (const f of this.followers.get(l.fn_id) ?? []) f(l);
  }

  /** The last `n` lines of a function (fewer when the ring's byte bound holds fewer). */
  tail(fnId: string, n: number): LogLine[] {
    return this.recent.get(fnId)?.last(n) ?? [];
  }

  /** Calls `f` for each new line of the function until the returned function is called. */
  follow(fnId: string, f: (l: LogLine) => void): () => void {
    let set = this.followers.get(fnId);
    if (!set) this.followers.set(fnId, (set = new Set()));
    set.add(f);
    return () => set.delete(f);
  }

  forget(fnId: string): void {
    this.recent.delete(fnId);
  }
}
