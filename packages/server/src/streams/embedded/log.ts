import { createHash } from 'node:crypto';
import type { CommitFence, SourceRecord } from '../engine/source.js';

export type { CommitFence, LeaseToken } from '../engine/source.js';

/** A stream of the embedded engine: a durable, partitioned, append-only log in the server's store. */
export interface StreamInfo {
  id: string;
  name: string;
  partitions: number;
  retention_ms: number;
  created_at: string;
  updated_at: string;
}

export interface NewMessage {
  key?: Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
  /** Milliseconds since the epoch; the append time when absent. */
  timestamp?: number;
}

/** A stored message is exactly what the trigger engine reads. */
export type StoredMessage = SourceRecord;

export interface PartitionBounds {
  partition: number;
  /** Lowest offset still stored (retention moves it). */
  start: number;
  /** The offset the next message will get. */
  end: number;
}

/** Where one appended message went. */
export interface AppendedAt {
  partition: number;
  offset: number;
}

/** A consumer group's position in one partition of a stream. */
export interface GroupPosition {
  group: string;
  streamId: string;
  partition: number;
  /** The next offset to read. */
  offset: number;
}

/**
 * The embedded stream engine, on SQLite (sqlite-log.ts) or PostgreSQL (postgres-log.ts): the same behaviour on both,
 * as one conformance suite checks. Offsets are dense and strictly increasing per partition whoever appends; every
 * append wakes the readers waiting on its partitions, on this server and (PostgreSQL) on every other.
 */
export interface StreamLog {
  createStream(s: StreamInfo): Promise<StreamInfo>;
  /** A stream by id or by name. */
  getStream(idOrName: string): Promise<StreamInfo | undefined>;
  listStreams(opts: { after?: string; limit: number; name?: string }): Promise<StreamInfo[]>;
  updateRetention(id: string, retentionMs: number, updatedAt: string): Promise<void>;
  /** Deletes the stream with its messages and group offsets; false when it did not exist. */
  deleteStream(id: string): Promise<boolean>;
  /** Appends a batch atomically; a key picks its partition by hash, no key goes round robin. */
  append(stream: StreamInfo, messages: NewMessage[], now?: number): Promise<AppendedAt[]>;
  /** Messages of one partition from `offset` on, at most `limit` of them and about `maxBytes` (at least one). */
  read(streamId: string, partition: number, offset: number, limit: number, maxBytes?: number): Promise<StoredMessage[]>;
  bounds(streamId: string): Promise<PartitionBounds[]>;
  /** The first offset whose timestamp is at or after `ts` (the end offset when there is none). */
  offsetForTime(streamId: string, partition: number, ts: number): Promise<number>;
  /** Resolves once something is appended to the partition, the wait times out, or the signal aborts. */
  waitForAppend(streamId: string, partition: number, timeoutMs: number, signal: AbortSignal): Promise<void>;
  getGroupOffsets(group: string, streamId: string): Promise<Map<number, number>>;
  /**
   * Moves a group's offset; with a fence, only if the fence holds in the same transaction. True when it was written,
   * false when the fence refused it (nothing written).
   */
  commitOffset(position: GroupPosition, fence?: CommitFence): Promise<boolean>;
  /**
   * Appends dead letters to `deadLetters` AND moves the group's offset past them, in one transaction checked by the
   * fence: both happen or neither does, whenever the process dies. False when the fence refused it (nothing written).
   */
  deadLetterAndCommit(deadLetters: StreamInfo, letters: NewMessage[], position: GroupPosition, fence: CommitFence): Promise<boolean>;
  deleteGroup(group: string): Promise<void>;
  /** Deletes messages older than each stream's retention; returns how many went. */
  trim(now?: number): Promise<number>;
  /** Stops listening for other servers' appends (the store owns the connection itself). */
  close(): Promise<void>;
}

/** The partition a key goes to; stable across restarts and servers. */
export function partitionForKey(key: Buffer, partitions: number): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % partitions;
}

/**
 * Where each message of an append goes: its key's partition, or round robin from `rr` for those without a key.
 * Returns the partitions in message order and how many round-robin slots were used.
 */
export function placeMessages(messages: NewMessage[], partitions: number, rr: number): { placed: number[]; used: number } {
  let next = rr;
  const placed = messages.map((m) => (m.key ? partitionForKey(m.key, partitions) : next++ % partitions));
  return { placed, used: next - rr };
}

/** The headers column: JSON, or null when there are none. */
export function headersColumn(headers: Record<string, string> | undefined): string | null {
  return headers && Object.keys(headers).length > 0 ? JSON.stringify(headers) : null;
}

/** A stored message as both stores' SELECTs return it (headers as their JSON text). */
export interface MessageRow {
  partition: number;
  offset: number;
  ts: number;
  key: Buffer | null;
  value: Buffer;
  headers: string | null;
}

/** A stored row as the engine reads it. */
export function messageFromRow(r: MessageRow): StoredMessage {
  return {
    partition: r.partition,
    offset: r.offset,
    timestamp: r.ts,
    key: r.key,
    value: r.value,
    headers: r.headers ? (JSON.parse(r.headers) as Record<string, string>) : {},
  };
}

/** Keeps messages up to about `maxBytes` (keys count); a message larger than that still goes, alone, rather than stalling. */
export function withinBytes(messages: StoredMessage[], maxBytes: number): StoredMessage[] {
  const out: StoredMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value.length + (m.key?.length ?? 0);
    if (out.length > 0 && bytes + size > maxBytes) break;
    bytes += size;
    out.push(m);
  }
  return out;
}
