import type {
  AssignmentListener, CommitAfterLetters, CommitFence, DeadLetterRecord, OffsetBounds, RedriveResult, SourceRecord,
  StartPosition, StreamSource,
} from '../engine/source.js';
import type { LeaseChange, PostgresLeaseCoordinator } from './postgres-leases.js';

/**
 * An embedded stream shared by several servers, as one trigger's source on this server: it consumes only the
 * partitions whose leases this server holds (announced to the runner as a consumer group's assignment is), and every
 * commit and dead-letter write carries the lease (owner and epoch) the log checks in the same transaction.
 */
export class LeasedSource implements StreamSource {
  private listener: AssignmentListener | undefined;
  /** Partition → the epoch its worker runs under; set before a worker starts, removed once it is fenced. */
  private readonly active = new Map<number, number>();

  constructor(
    private readonly inner: StreamSource,
    private readonly leases: PostgresLeaseCoordinator,
    private readonly triggerId: string,
    private readonly partitionCount: number,
  ) {}

  get type(): 'embedded' | 'kafka' {
    return this.inner.type;
  }

  get name(): string {
    return this.inner.name;
  }

  async partitions(): Promise<number[]> {
    return [...this.active.keys()].sort((a, b) => a - b);
  }

  onAssignment(listener: AssignmentListener): void {
    this.listener = listener;
  }

  async start(): Promise<void> {
    await this.leases.join(this.triggerId, this.partitionCount, (change) => this.apply(change));
  }

  /**
   * A partition lost outright stops being ours before its worker is fenced (its commits are refused at once); one
   * handed over stays ours while its batch in flight drains, and is released after.
   */
  private async apply(change: LeaseChange): Promise<void> {
    if (change.lost.length > 0) {
      if (!change.drain) for (const p of change.lost) this.active.delete(p);
      await this.listener?.({ assigned: [], revoked: change.lost, lost: !change.drain });
      for (const p of change.lost) this.active.delete(p);
    }
    if (change.won.length > 0) {
      for (const w of change.won) this.active.set(w.partition, w.epoch);
      await this.listener?.({ assigned: change.won.map((w) => w.partition), revoked: [], lost: false });
    }
  }

  async release(): Promise<void> {
    await this.leases.leave(this.triggerId, true);
  }

  /** The fence with this server's lease of the partition; undefined when it holds none (the write is refused). */
  private leased(partition: number, fence: CommitFence | undefined): CommitFence | undefined {
    const epoch = this.active.get(partition);
    if (epoch === undefined) return undefined;
    return { isCurrent: fence?.isCurrent ?? (() => true), lease: { owner: this.leases.serverId, epoch } };
  }

  async commit(partition: number, offset: number, fence?: CommitFence): Promise<boolean> {
    const leased = this.leased(partition, fence);
    const ok = leased !== undefined && (await this.inner.commit(partition, offset, leased));
    // Refused: the lease may have moved on; look now rather than at the next renewal, so the worker stops sooner.
    if (!ok) void this.leases.poke();
    return ok;
  }

  async markInFlight(partition: number, last: number, fence: CommitFence): Promise<boolean> {
    const leased = this.leased(partition, fence);
    return leased !== undefined && this.inner.markInFlight !== undefined && this.inner.markInFlight(partition, last, leased);
  }

  async inFlight(): Promise<Map<number, number>> {
    return (await this.inner.inFlight?.()) ?? new Map();
  }

  async writeDeadLetters(destination: string, letters: DeadLetterRecord[], commit: CommitAfterLetters): Promise<boolean> {
    const leased = this.leased(commit.partition, commit.fence);
    const ok = leased !== undefined && (await this.inner.writeDeadLetters(destination, letters, { ...commit, fence: leased }));
    if (!ok) void this.leases.poke();
    return ok;
  }

  /**
   * Moves committed offsets from any server (the trigger is paused): the partitions' epochs are raised before the
   * write (a batch still in flight anywhere cannot commit over it) and after it (an owner that restarted a partition
   * in between reads the new offset), then every owner restarts them from the new offsets.
   */
  async seekCommitted(offsets: Map<number, number>): Promise<void> {
    const partitions = [...offsets.keys()];
    await this.leases.bumpEpochs(this.triggerId, partitions);
    for (const [p, offset] of offsets) await this.inner.commit(p, offset);
    await this.leases.bumpEpochs(this.triggerId, partitions);
    await this.leases.announce();
    await this.leases.settled(this.triggerId);
  }

  /** Fences every batch in flight on every server (a pause made through any of them). */
  async fenceEverywhere(): Promise<void> {
    await this.leases.bumpEpochs(this.triggerId);
    await this.leases.announce();
    await this.leases.settled(this.triggerId);
  }

  /** The server holding each partition's lease (null: none, or an expired one nobody took yet). */
  async owners(): Promise<Map<number, string | null>> {
    return new Map((await this.leases.rows(this.triggerId)).map((r) => [r.partition, r.expired ? null : r.owner]));
  }

  bounds(): Promise<OffsetBounds> {
    return this.inner.bounds();
  }

  resolve(position: StartPosition): Promise<Map<number, number>> {
    return this.inner.resolve(position);
  }

  fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): Promise<SourceRecord[]> {
    return this.inner.fetch(partition, offset, maxRecords, maxBytes);
  }

  waitForData(partition: number, offset: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.inner.waitForData(partition, offset, timeoutMs, signal);
  }

  committed(): Promise<Map<number, number>> {
    return this.inner.committed();
  }

  async peekTimestamp(partition: number, offset: number): Promise<number | undefined> {
    return this.inner.peekTimestamp ? this.inner.peekTimestamp(partition, offset) : (await this.inner.fetch(partition, offset, 1, Infinity))[0]?.timestamp;
  }

  redriveDeadLetters(destination: string, deliver: (letter: SourceRecord) => Promise<string | undefined>): Promise<RedriveResult> {
    return this.inner.redriveDeadLetters(destination, deliver);
  }

  describe(): Record<string, unknown> {
    return { server_id: this.leases.serverId, leased: [...this.active.keys()].sort((a, b) => a - b) };
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
