import { DLQ_TRIGGER_ID, redriveLetters, type DeadLetterLog } from '../engine/dead-letters.js';
import {
  resolveStartOffsets, type DeadLetterRecord, type OffsetBounds, type RedriveResult, type SourceRecord, type StartPosition,
  type StreamSource,
} from '../engine/source.js';
import type { EmbeddedLog, StreamInfo } from './log.js';

/** The embedded log as a trigger source; the consumer group is the trigger's id. */
export class EmbeddedSource implements StreamSource {
  readonly type = 'embedded' as const;

  constructor(
    private readonly log: EmbeddedLog,
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
    const byTime = typeof position === 'object' && 'timestamp' in position
      ? new Map([...bounds.keys()].map((p) => [p, this.log.offsetForTime(this.stream.id, p, position.timestamp)]))
      : undefined;
    return resolveStartOffsets(position, bounds, byTime);
  }

  async fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): Promise<SourceRecord[]> {
    return this.log.read(this.stream.id, partition, offset, maxRecords, maxBytes);
  }

  async peekTimestamp(partition: number, offset: number): Promise<number | undefined> {
    return this.log.read(this.stream.id, partition, offset, 1)[0]?.timestamp;
  }

  async waitForData(partition: number, offset: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const end = this.log.bounds(this.stream.id).find((b) => b.partition === partition)?.end ?? 0;
    if (end > offset) return;
    await this.log.waitForAppend(this.stream.id, partition, timeoutMs, signal);
  }

  async committed(): Promise<Map<number, number>> {
    return this.log.getGroupOffsets(this.group, this.stream.id);
  }

  async commit(partition: number, offset: number): Promise<void> {
    this.log.setGroupOffset(this.group, this.stream.id, partition, offset);
  }

  /** Appends dead letters to the dead-letter stream: the record's key, value and headers, plus the fnts.dlq.* ones. */
  async writeDeadLetters(destination: string, letters: DeadLetterRecord[]): Promise<void> {
    const dlq = this.log.getStream(destination);
    if (!dlq) throw new Error(`dead-letter stream "${destination}" does not exist`);
    this.log.append(dlq, letters.map((l) => ({ key: l.record.key, value: l.record.value, headers: { ...l.record.headers, ...l.headers } })));
  }

  /** Redrive from the dead-letter stream: progress is the group `<trigger id>:redrive` of that stream. */
  redriveDeadLetters(destination: string, deliver: (letter: SourceRecord) => Promise<string | undefined>): Promise<RedriveResult> {
    const dlq = this.log.getStream(destination);
    // The loop reads nothing else once `bounds` says the stream does not exist.
    const dlqId = dlq?.id ?? '';
    const group = `${this.group}:redrive`;
    const letters: DeadLetterLog = {
      label: `dead-letter stream "${destination}"`,
      bounds: async () => dlq && boundsOf(this.log, dlq.id),
      progress: async () => this.log.getGroupOffsets(group, dlqId),
      read: async (partition, offset, max) => this.log.read(dlqId, partition, offset, max),
      saveProgress: async (partition, offset) => this.log.setGroupOffset(group, dlqId, partition, offset),
      mine: (letter) => letter.headers[DLQ_TRIGGER_ID] === this.group,
    };
    return redriveLetters(letters, deliver);
  }

  async close(): Promise<void> {
    // Nothing to release: the log belongs to the server.
  }
}

function boundsOf(log: EmbeddedLog, streamId: string): OffsetBounds {
  return new Map(log.bounds(streamId).map((b) => [b.partition, { start: b.start, end: b.end }]));
}
