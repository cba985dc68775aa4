import { DLQ_TRIGGER_ID, redriveLetters, type DeadLetterLog } from '../engine/dead-letters.js';
import {
  resolveStartOffsets, type CommitAfterLetters, type CommitFence, type DeadLetterRecord, type OffsetBounds,
  type RedriveResult, type SourceRecord, type StartPosition, type StreamSource,
} from '../engine/source.js';
import type { StreamInfo, StreamLog } from './log.js';

/** The embedded log as a trigger source; the consumer group is the trigger's id. */
export class EmbeddedSource implements StreamSource {
  readonly type = 'embedded' as const;

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

  async fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): Promise<SourceRecord[]> {
    return this.log.read(this.stream.id, partition, offset, maxRecords, maxBytes);
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
    const group = `${this.group}:redrive`;
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

async function boundsOf(log: StreamLog, streamId: string): Promise<OffsetBounds> {
  return new Map((await log.bounds(streamId)).map((b) => [b.partition, { start: b.start, end: b.end }]));
}
