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
  /** The time of the newest line dropped so far: output from before it may be incomplete. */
  droppedThrough: string | undefined;

  constructor(private readonly maxBytes: number) {}

  push(l: LogLine): void {
    this.items.push(l);
    this.bytes += costOf(l);
    while (this.bytes > this.maxBytes && this.head < this.items.length) {
      const dropped = this.items[this.head] as LogLine;
      this.bytes -= costOf(dropped);
      this.droppedThrough = dropped.time;
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

  /** The kept lines of one call, oldest first (a scan: the ring is bounded in bytes, and this is not a hot path). */
  ofCall(callId: string): LogLine[] {
    const out: LogLine[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const l = this.items[i] as LogLine;
      if (l.call_id === callId) out.push(l);
    }
    return out;
  }
}

/** A call's kept output, and whether it is all of it. */
export interface CallOutput {
  lines: LogLine[];
  /** True when nothing this function printed since the call began has been dropped (nor lost to a restart). */
  complete: boolean;
}

/**
 * Recent function output per function (a ring bounded in bytes, `FNTS_LOG_RING_BYTES`) plus live followers:
 * what `fnts logs` reads. The server log gets the same lines, rate-bounded per container (agent/output.ts).
 */
export class LogHub {
  private readonly recent = new Map<string, LineRing>();
  private readonly followers = new Map<string, Set<(l: LogLine) => void>>();

  /** Output from before this hub existed (a server restart) is not kept anywhere. */
  private readonly since = new Date().toISOString();

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

  /**
   * The kept output of one call that began at `startedAt` (ISO time, as the call record has it): its lines, and
   * whether they are all it printed (ISO times in UTC compare as strings).
   */
  ofCall(fnId: string, callId: string, startedAt: string | undefined): CallOutput {
    const ring = this.recent.get(fnId);
    const lines = ring?.ofCall(callId) ?? [];
    const dropped = ring?.droppedThrough;
    const complete = startedAt !== undefined && startedAt >= this.since && (dropped === undefined || startedAt > dropped);
    return { lines, complete };
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
