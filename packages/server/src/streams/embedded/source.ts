import { DLQ_TRIGGER_ID, redriveLetters, type DeadLetterLog } from '../engine/dead-letters.js';
import {
  resolveStartOffsets, type CommitAfterLetters, type CommitFence, type DeadLetterRecord, type OffsetBounds,
  type RedriveResult, type SourceRecord, type StartPosition, type StreamSource,
} from '../engine/source.js';
import { withinBytes, type StoredMessage, type StreamInfo, type StreamLog } from './log.js';

/**
 * Records a fetch reads at least, when the batch asks for fewer (STREAMS.md §12, bounded prefetch): a trigger with
 * batch_size 1 reads the log once per this many records instead of once per record. Still bounded by the batch's
 * max_batch_bytes, so a partition holds no more than one full batch would.
 */
export const READ_AHEAD_RECORDS = 100;

/** Records read past the last batch of one partition: `records[next]` onwards are not yet handed out. */
interface ReadAhead {
  records: StoredMessage[];
  next: number;
}

/** The embedded log as a trigger source; the consumer group is the trigger's id. */
export class EmbeddedSource implements StreamSource {
  readonly type = 'embedded' as const;
  private readonly ahead = new Map<number, ReadAhead>();

  constructor(
    private readonly log: StreamLog,
    private readonly stream: StreamInfo,
    private readonly group: string,
  ) {}

  get name(): string {
    return this.stream.name;
  }

  async partitions(): Promise<number[]> {
    return Array.from({ length: this.stream.partitions }, (_, i) => i);
  }

  async bounds(): Promise<OffsetBounds> {
    return boundsOf(this.log, this.stream.id);
  }

  async resolve(position: StartPosition): Promise<Map<number, number>> {
    const bounds = await this.bounds();
    let byTime: Map<number, number> | undefined;
    if (typeof position === 'object' && 'timestamp' in position) {
      byTime = new Map();
      for (const p of bounds.keys()) byTime.set(p, await this.log.offsetForTime(this.stream.id, p, position.timestamp));
    }
    return resolveStartOffsets(position, bounds, byTime);
  }

  /**
   * Served from what the last read of this partition fetched ahead when that starts exactly at `offset` and holds a
   * whole batch; otherwise (a batch larger than the read-ahead, the log's end reached, a seek, a redelivery) read
   * again from `offset`. Records never change once appended, so what was read ahead stays true; retention may have
   * removed them since, which changes nothing for a batch already read.
   */
  async fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): Promise<SourceRecord[]> {
    let ahead = this.ahead.get(partition);
    if (ahead) {
      while (ahead.next < ahead.records.length && (ahead.records[ahead.next] as StoredMessage).offset < offset) ahead.next++;
      if (ahead.records.length - ahead.next < maxRecords || ahead.records[ahead.next]?.offset !== offset) ahead = undefined;
    }
    if (!ahead) {
      const records = await this.log.read(this.stream.id, partition, offset, Math.max(maxRecords, READ_AHEAD_RECORDS), maxBytes);
      if (records.length <= maxRecords) {
        // Nothing beyond this batch: nothing to keep.
        this.ahead.delete(partition);
        return records;
      }
      ahead = { records, next: 0 };
      this.ahead.set(partition, ahead);
    }
    return withinBytes(ahead.records.slice(ahead.next, ahead.next + maxRecords), maxBytes);
  }

  async peekTimestamp(partition: number, offset: number): Promise<number | undefined> {
    return (await this.log.read(this.stream.id, partition, offset, 1))[0]?.timestamp;
  }

  async waitForData(partition: number, offset: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    // Listen first, then look: an append between the look and the wait would otherwise sleep until the timeout.
    const stop = new AbortController();
    const woken = this.log.waitForAppend(this.stream.id, partition, timeoutMs, AbortSignal.any([signal, stop.signal]));
    const end = (await this.log.bounds(this.stream.id)).find((b) => b.partition === partition)?.end ?? 0;
    if (end > offset) stop.abort();
    await woken;
  }

  async committed(): Promise<Map<number, number>> {
    return this.log.getGroupOffsets(this.group, this.stream.id);
  }

  async commit(partition: number, offset: number, fence?: CommitFence): Promise<boolean> {
    return this.log.commitOffset({ group: this.group, streamId: this.stream.id, partition, offset }, fence);
  }

  /** Kept as a consumer group of its own, `<trigger id>:inflight`, whose "offset" is the batch's last offset. */
  async markInFlight(partition: number, last: number, fence: CommitFence): Promise<boolean> {
    return this.log.commitOffset({ group: inFlightGroup(this.group), streamId: this.stream.id, partition, offset: last }, fence);
  }

  async inFlight(): Promise<Map<number, number>> {
    return this.log.getGroupOffsets(inFlightGroup(this.group), this.stream.id);
  }

  /**
   * Appends dead letters to the dead-letter stream (the record's key, value and headers, plus the fnts.dlq.* ones)
   * and commits past them, in one transaction.
   */
  async writeDeadLetters(destination: string, letters: DeadLetterRecord[], commit: CommitAfterLetters): Promise<boolean> {
    const dlq = await this.log.getStream(destination);
    if (!dlq) throw new Error(`dead-letter stream "${destination}" does not exist`);
    return this.log.deadLetterAndCommit(
      dlq,
      letters.map((l) => ({ key: l.record.key, value: l.record.value, headers: { ...l.record.headers, ...l.headers } })),
      { group: this.group, streamId: this.stream.id, partition: commit.partition, offset: commit.offset },
      commit.fence,
    );
  }

  /** Redrive from the dead-letter stream: progress is the group `<trigger id>:redrive` of that stream. */
  async redriveDeadLetters(destination: string, deliver: (letter: SourceRecord) => Promise<string | undefined>): Promise<RedriveResult> {
    const dlq = await this.log.getStream(destination);
    // The loop reads nothing else once `bounds` says the stream does not exist.
    const dlqId = dlq?.id ?? '';
    const group = redriveGroup(this.group);
    const letters: DeadLetterLog = {
      label: `dead-letter stream "${destination}"`,
      bounds: async () => dlq && boundsOf(this.log, dlq.id),
      progress: async () => this.log.getGroupOffsets(group, dlqId),
      read: async (partition, offset, max) => this.log.read(dlqId, partition, offset, max),
      saveProgress: async (partition, offset) => {
        await this.log.commitOffset({ group, streamId: dlqId, partition, offset });
      },
      mine: (letter) => letter.headers[DLQ_TRIGGER_ID] === this.group,
    };
    return redriveLetters(letters, deliver);
  }

  async close(): Promise<void> {
    // Nothing to release: the log belongs to the server.
  }
}

/** The consumer group holding a trigger's partial batches in flight (EmbeddedSource.markInFlight). */
export function inFlightGroup(group: string): string {
  return `${group}${IN_FLIGHT_SUFFIX}`;
}

/** The consumer group holding how far a trigger's redrive of its dead letters got (EmbeddedSource.redriveDeadLetters). */
export function redriveGroup(group: string): string {
  return `${group}:redrive`;
}

/** The trigger whose partition lease fences writes to `group`: a trigger's own group, or its in-flight group. */
export function leaseGroupOf(group: string): string {
  return group.endsWith(IN_FLIGHT_SUFFIX) ? group.slice(0, -IN_FLIGHT_SUFFIX.length) : group;
}

const IN_FLIGHT_SUFFIX = ':inflight';

async function boundsOf(log: StreamLog, streamId: string): Promise<OffsetBounds> {
  return new Map((await log.bounds(streamId)).map((b) => [b.partition, { start: b.start, end: b.end }]));
}
