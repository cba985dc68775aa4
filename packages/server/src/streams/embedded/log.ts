import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { statementCache } from '../../store/statements.js';
import type { SourceRecord } from '../engine/source.js';

/** A stream of the embedded engine: a durable, partitioned, append-only log in SQLite. */
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

interface MessageRow {
  partition: number;
  offset: number;
  ts: number;
  key: Buffer | null;
  value: Buffer;
  headers: string | null;
}

const fromRow = (r: MessageRow): StoredMessage => ({
  partition: r.partition,
  offset: r.offset,
  timestamp: r.ts,
  key: r.key,
  value: r.value,
  headers: r.headers ? (JSON.parse(r.headers) as Record<string, string>) : {},
});

/** The partition a key goes to; stable across restarts and servers. */
export function partitionForKey(key: Buffer, partitions: number): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % partitions;
}

/**
 * The embedded stream engine. Appends run in one SQLite transaction per batch, so offsets are dense and
 * strictly increasing per partition; every append is announced so waiting consumers wake at once.
 */
export class EmbeddedLog {
  private readonly appended = new EventEmitter();
  private readonly stmt: (sql: string) => Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.appended.setMaxListeners(0);
    this.stmt = statementCache(db);
  }

  createStream(s: StreamInfo): StreamInfo {
    this.db.transaction(() => {
      this.stmt(`INSERT INTO streams (id, name, partitions, retention_ms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(s.id, s.name, s.partitions, s.retention_ms, s.created_at, s.updated_at);
      const part = this.stmt(`INSERT INTO stream_partitions (stream_id, partition) VALUES (?, ?)`);
      for (let p = 0; p < s.partitions; p++) part.run(s.id, p);
    })();
    return s;
  }

  getStream(idOrName: string): StreamInfo | undefined {
    return this.stmt(`SELECT id, name, partitions, retention_ms, created_at, updated_at FROM streams WHERE id = ? OR name = ?`)
      .get(idOrName, idOrName) as StreamInfo | undefined;
  }

  listStreams(opts: { after?: string; limit: number; name?: string }): StreamInfo[] {
    return this.stmt(`SELECT id, name, partitions, retention_ms, created_at, updated_at FROM streams
                WHERE name > ? AND (? IS NULL OR name = ?) ORDER BY name LIMIT ?`)
      .all(opts.after ?? '', opts.name ?? null, opts.name ?? null, opts.limit) as StreamInfo[];
  }

  updateRetention(id: string, retentionMs: number, updatedAt: string): void {
    this.stmt(`UPDATE streams SET retention_ms = ?, updated_at = ? WHERE id = ?`).run(retentionMs, updatedAt, id);
  }

  deleteStream(id: string): boolean {
    return this.db.transaction(() => {
      this.stmt(`DELETE FROM stream_messages WHERE stream_id = ?`).run(id);
      this.stmt(`DELETE FROM consumer_offsets WHERE stream_id = ?`).run(id);
      return this.stmt(`DELETE FROM streams WHERE id = ?`).run(id).changes > 0;
    })();
  }

  /** Appends a batch atomically; a key picks its partition by hash, no key goes round robin. */
  append(stream: StreamInfo, messages: NewMessage[], now = Date.now()): { partition: number; offset: number }[] {
    const result = this.db.transaction(() => {
      const rr = (this.stmt(`SELECT rr FROM streams WHERE id = ?`).get(stream.id) as { rr: number }).rr;
      let next = rr;
      const bump = this.stmt(
        `UPDATE stream_partitions SET next_offset = next_offset + 1 WHERE stream_id = ? AND partition = ? RETURNING next_offset - 1 AS offset`,
      );
      const insert = this.stmt(
        `INSERT INTO stream_messages (stream_id, partition, offset, ts, key, value, headers) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      const out = messages.map((m) => {
        const partition = m.key ? partitionForKey(m.key, stream.partitions) : next++ % stream.partitions;
        const { offset } = bump.get(stream.id, partition) as { offset: number };
        const headers = m.headers && Object.keys(m.headers).length > 0 ? JSON.stringify(m.headers) : null;
        insert.run(stream.id, partition, offset, m.timestamp ?? now, m.key ?? null, m.value, headers);
        return { partition, offset };
      });
      if (next !== rr) this.stmt(`UPDATE streams SET rr = ? WHERE id = ?`).run(next % stream.partitions, stream.id);
      return out;
    })();
    for (const p of new Set(result.map((r) => r.partition))) this.appended.emit(`${stream.id}/${p}`);
    return result;
  }

  /** Messages of one partition from `offset` on, at most `limit` of them and about `maxBytes` (at least one). */
  read(streamId: string, partition: number, offset: number, limit: number, maxBytes = Infinity): StoredMessage[] {
    const rows = this.stmt(`SELECT partition, offset, ts, key, value, headers FROM stream_messages
                WHERE stream_id = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?`)
      .all(streamId, partition, offset, limit) as MessageRow[];
    const out: StoredMessage[] = [];
    let bytes = 0;
    for (const r of rows) {
      const size = r.value.length + (r.key?.length ?? 0);
      // A message larger than maxBytes still goes, alone, rather than stalling the partition.
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(fromRow(r));
    }
    return out;
  }

  bounds(streamId: string): PartitionBounds[] {
    return (this.stmt(`SELECT partition, start_offset AS start, next_offset AS "end" FROM stream_partitions WHERE stream_id = ? ORDER BY partition`)
      .all(streamId) as PartitionBounds[]);
  }

  /** The first offset whose timestamp is at or after `ts` (the end offset when there is none). */
  offsetForTime(streamId: string, partition: number, ts: number): number {
    const row = this.stmt(`SELECT MIN(offset) AS offset FROM stream_messages WHERE stream_id = ? AND partition = ? AND ts >= ?`)
      .get(streamId, partition, ts) as { offset: number | null };
    if (row.offset !== null) return row.offset;
    return this.bounds(streamId).find((b) => b.partition === partition)?.end ?? 0;
  }

  /** Timestamp of the message at `offset`, if it is stored. */
  timestampAt(streamId: string, partition: number, offset: number): number | undefined {
    const row = this.stmt(`SELECT ts FROM stream_messages WHERE stream_id = ? AND partition = ? AND offset = ?`)
      .get(streamId, partition, offset) as { ts: number } | undefined;
    return row?.ts;
  }

  /** Resolves once something is appended to the partition, the wait times out, or the signal aborts. */
  waitForAppend(streamId: string, partition: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const event = `${streamId}/${partition}`;
      const done = () => {
        clearTimeout(timer);
        this.appended.off(event, done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.appended.once(event, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  getGroupOffsets(group: string, streamId: string): Map<number, number> {
    const rows = this.stmt(`SELECT partition, offset FROM consumer_offsets WHERE group_id = ? AND stream_id = ?`)
      .all(group, streamId) as { partition: number; offset: number }[];
    return new Map(rows.map((r) => [r.partition, r.offset]));
  }

  setGroupOffset(group: string, streamId: string, partition: number, offset: number, now = new Date().toISOString()): void {
    this.stmt(`INSERT INTO consumer_offsets (group_id, stream_id, partition, offset, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (group_id, stream_id, partition) DO UPDATE SET offset = excluded.offset, updated_at = excluded.updated_at`)
      .run(group, streamId, partition, offset, now);
  }

  deleteGroup(group: string): void {
    this.stmt(`DELETE FROM consumer_offsets WHERE group_id = ?`).run(group);
  }

  /** Deletes messages older than each stream's retention; returns how many went. */
  trim(now = Date.now()): number {
    return this.db.transaction(() => {
      let removed = 0;
      const streams = this.stmt(`SELECT id, retention_ms FROM streams`).all() as { id: string; retention_ms: number }[];
      for (const s of streams) {
        removed += this.stmt(`DELETE FROM stream_messages WHERE stream_id = ? AND ts < ?`).run(s.id, now - s.retention_ms).changes;
        this.stmt(`UPDATE stream_partitions SET start_offset = COALESCE(
                      (SELECT MIN(offset) FROM stream_messages m WHERE m.stream_id = stream_partitions.stream_id
                         AND m.partition = stream_partitions.partition), next_offset)
                    WHERE stream_id = ?`)
          .run(s.id);
      }
      return removed;
    })();
  }
}
