import type { EmbeddedLog, StreamInfo } from './log.js';

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
  bounds(): Promise<Map<number, { start: number; end: number }>>;
  /** Resolves a start position to an offset for each partition. */
  resolve(position: StartPosition): Promise<Map<number, number>>;
  fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): Promise<SourceRecord[]>;
  /** Waits (bounded) until the partition may have data past `offset`. */
  waitForData(partition: number, offset: number, timeoutMs: number, signal: AbortSignal): Promise<void>;
  committed(): Promise<Map<number, number>>;
  commit(partition: number, offset: number): Promise<void>;
  close(): Promise<void>;
}

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

  async bounds(): Promise<Map<number, { start: number; end: number }>> {
    return new Map(this.log.bounds(this.stream.id).map((b) => [b.partition, { start: b.start, end: b.end }]));
  }

  async resolve(position: StartPosition): Promise<Map<number, number>> {
    const bounds = await this.bounds();
    const out = new Map<number, number>();
    for (const [p, b] of bounds) {
      if (position === 'earliest') out.set(p, b.start);
      else if (position === 'latest') out.set(p, b.end);
      else if ('timestamp' in position) out.set(p, this.log.offsetForTime(this.stream.id, p, position.timestamp));
      else out.set(p, Math.min(Math.max(position.offsets[String(p)] ?? b.start, b.start), b.end));
    }
    return out;
  }

  async fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): Promise<SourceRecord[]> {
    return this.log.read(this.stream.id, partition, offset, maxRecords, maxBytes);
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

  async close(): Promise<void> {
    // Nothing to release: the log belongs to the server.
  }
}
