/** One line a function printed. */
export interface LogLine {
  time: string;
  app_id: string;
  fn_id: string;
  container: string;
  call_id?: string;
  line: string;
}

/**
 * Recent function output per function (a bounded ring) plus live followers: what `fnts logs` reads.
 * The server log gets every line too; this is the per-function view of it.
 */
export class LogHub {
  private readonly recent = new Map<string, LogLine[]>();
  private readonly followers = new Map<string, Set<(l: LogLine) => void>>();

  constructor(private readonly keep = 1000) {}

  publish(l: LogLine): void {
    let ring = this.recent.get(l.fn_id);
    if (!ring) this.recent.set(l.fn_id, (ring = []));
    ring.push(l);
    if (ring.length > this.keep) ring.splice(0, ring.length - this.keep);
    for (const f of this.followers.get(l.fn_id) ?? []) f(l);
  }

  /** The last `n` lines of a function. */
  tail(fnId: string, n: number): LogLine[] {
    return (this.recent.get(fnId) ?? []).slice(-n);
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
