/** One record as the trigger engine sees it, whatever the source. */
export interface SourceRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
}

/** Where a trigger starts reading: resolved to concrete offsets once, when the trigger is created. */
export type StartPosition = 'earliest' | 'latest' | { timestamp: number } | { offsets: Record<string, number> };

/**
 * Told when partitions move to or away from this server (Kafka's group protocol). The engine starts workers for
 * `assigned`; for `revoked` it drains and fences them, and the source releases the partitions only when the returned
 * promise settles: commits made until then are the last ones this server makes for them. `lost` means the partitions
 * are gone already (session expired): nothing can be committed, so nothing is drained.
 */
export type AssignmentListener = (change: { assigned: number[]; revoked: number[]; lost: boolean }) => Promise<void>;

export interface RedriveResult {
  redriven: number;
  remaining: number;
  error?: string;
}

/** A dead letter ready to write: the record and the headers that describe its fate. */
export interface DeadLetterRecord {
  record: SourceRecord;
  headers: Record<string, string>;
}

/**
 * Who may move a consumer group's offset of one partition, checked inside the transaction that moves it (after its
 * rows are written and locked, just before it commits) where the source has transactions: a commit that fails the
 * check writes nothing.
 */
export interface CommitFence {
  /** False once the worker was fenced in this process (pause, seek, stop): its late result is discarded. */
  isCurrent(): boolean;
  /**
   * The partition lease the commit is made under, for servers sharing a database; absent on a server that owns every
   * partition. The PostgreSQL log checks it in the same transaction with the `leaseCheck` it was opened with
   * (postgres-log.ts, embedded/open.ts); SQLite serves one server, which holds every partition.
   */
  lease?: LeaseToken;
}

/** A server's hold on one partition of a consumer group: its owner and the epoch the lease had when it was taken. */
export interface LeaseToken {
  owner: string;
  epoch: number;
}

/** The commit that goes with a dead-letter write: the partition's next offset past the letters, and its fence. */
export interface CommitAfterLetters {
  partition: number;
  offset: number;
  fence: CommitFence;
}

/**
 * What the trigger engine needs from a stream: the seam the embedded log and Kafka both implement.
 * Offsets are "next offset to read", as Kafka commits them.
 */
export interface StreamSource {
  readonly type: 'embedded' | 'kafka';
  /** The stream's display name (the embedded stream's name, or the Kafka topic). */
  readonly name: string;
  /** Partitions this server should consume now (all of them for the embedded log; the group's assignment for Kafka). */
  partitions(): Promise<number[]>;
  /** Lowest and next offsets per partition. */
  bounds(): Promise<OffsetBounds>;
  /** Resolves a start position to an offset for each partition. */
  resolve(position: StartPosition): Promise<Map<number, number>>;
  fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): Promise<SourceRecord[]>;
  /** Waits (bounded) until the partition may have data past `offset`. */
  waitForData(partition: number, offset: number, timeoutMs: number, signal: AbortSignal): Promise<void>;
  committed(): Promise<Map<number, number>>;
  /**
   * Commits the partition's next offset; with a fence, only while it holds (checked in the commit's transaction where
   * the source has one). False when the fence refused it: nothing was committed.
   */
  commit(partition: number, offset: number, fence?: CommitFence): Promise<boolean>;
  /**
   * Stores the range of a partial batch (fewer records than batch_size: the partition had caught up) before its call,
   * under the fence: whoever runs the partition next (a restart, another server) forms that batch again exactly, so it
   * keeps its id (STREAMS.md §4). A full batch is formed again the same way anyway. False when the fence refused it.
   * Sources without it (Kafka) may form a cut partial batch again with more records, under another id.
   */
  markInFlight?(partition: number, last: number, fence: CommitFence): Promise<boolean>;
  /** The last offset of each partition's partial batch marked in flight (markInFlight); stale when below the commit. */
  inFlight?(): Promise<Map<number, number>>;
  close(): Promise<void>;
  /**
   * Sources whose partitions move between servers announce it here; the engine then runs workers only for the
   * partitions assigned to this server. Without it, `partitions()` is fixed and all of them are consumed.
   */
  onAssignment?(listener: AssignmentListener): void;
  /** Starts consuming (joins the group); called once, after `onAssignment`. Must not wait for the broker. */
  start?(): Promise<void>;
  /** Stops announcing assignments and hands every partition back through the listener (drained), before `close`. */
  release?(): Promise<void>;
  /** Timestamp of the first record at or after `offset` when it is at hand, for lag in seconds; no side effects. */
  peekTimestamp?(partition: number, offset: number): Promise<number | undefined>;
  /**
   * Writes dead letters to the trigger's dead-letter destination (a stream, or a Kafka topic) and commits the offset
   * past them: the embedded log in one transaction (a letter is stored exactly once whenever the server dies); Kafka
   * produces then commits, and a letter written twice carries the same coordinates (`fnts.dlq.id`). Throws when it
   * cannot write; false when the fence refused the commit (the embedded log then wrote no letter either).
   */
  writeDeadLetters(destination: string, letters: DeadLetterRecord[], commit: CommitAfterLetters): Promise<boolean>;
  /**
   * Sends this trigger's dead letters (a destination may be shared) through `deliver`, one at a time, from where the
   * last redrive stopped; stops at the first one `deliver` reports failed (engine/dead-letters.ts runs the loop).
   */
  redriveDeadLetters(destination: string, deliver: (letter: SourceRecord) => Promise<string | undefined>): Promise<RedriveResult>;
  /** Source-specific facts for `status` (group, assignment, connection problems). */
  describe?(): Record<string, unknown>;
  /**
   * Partitions leased by servers sharing a database (streams/leases/): moves their committed offsets wherever they
   * run (the trigger is paused), fencing any batch still in flight; the owners restart them from there.
   */
  seekCommitted?(offsets: Map<number, number>): Promise<void>;
  /** Fences every batch in flight of the trigger on every server (a pause made through any of them). */
  fenceEverywhere?(): Promise<void>;
  /** The server holding each partition's lease (null: nobody now), for status. */
  owners?(): Promise<Map<number, string | null>>;
}

/** Lowest and next offset of each partition. */
export type OffsetBounds = Map<number, { start: number; end: number }>;

/**
 * A start position as an offset per partition, within each partition's bounds. `byTime` holds, per partition, the
 * first offset at or after the position's timestamp (none: the end), as the source looks it up.
 */
export function resolveStartOffsets(position: StartPosition, bounds: OffsetBounds, byTime?: Map<number, number | undefined>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [p, b] of bounds) {
    if (position === 'earliest') out.set(p, b.start);
    else if (position === 'latest') out.set(p, b.end);
    else if ('timestamp' in position) out.set(p, byTime?.get(p) ?? b.end);
    // An offset outside what is stored is clamped: below it, retention removed the records; above it, nothing yet.
    else out.set(p, Math.min(Math.max(position.offsets[String(p)] ?? b.start, b.start), b.end));
  }
  return out;
}
