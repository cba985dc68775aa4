import type Database from 'better-sqlite3';
import { statementCache } from '../../store/statements.js';
import {
  headersColumn, messageFromRow, placeMessages, withinBytes,
  type AppendedAt, type CommitFence, type GroupPosition, type MessageRow, type NewMessage, type PartitionBounds, type StoredMessage,
  type StreamInfo, type StreamLog,
} from './log.js';
import { deadLetterGapSync } from './test-hooks.js';
import { AppendWaiters } from './wake.js';

export interface SqliteStreamLogOptions {
  /** Test hook: stall this long between the dead letters and the commit, inside their transaction (0 = off). */
  testDeadLetterGapMs?: number;
}

/**
 * The embedded log in the server's SQLite file, on the store's own connection. better-sqlite3 runs each transaction
 * synchronously, so nothing else in the process interleaves with one: appends are dense and ordered per partition,
 * and a fence checked inside a transaction cannot change before it commits.
 */
export class SqliteStreamLog implements StreamLog {
  private readonly waiters = new AppendWaiters();
  private readonly stmt: (sql: string) => Database.Statement;

  constructor(private readonly db: Database.Database, private readonly opts: SqliteStreamLogOptions = {}) {
    this.stmt = statementCache(db);
  }

  async createStream(s: StreamInfo): Promise<StreamInfo> {
    this.db.transaction(() => {
      this.stmt(`INSERT INTO streams (id, name, partitions, retention_ms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(s.id, s.name, s.partitions, s.retention_ms, s.created_at, s.updated_at);
      const part = this.stmt(`INSERT INTO stream_partitions (stream_id, partition) VALUES (?, ?)`);
      for (let p = 0; p < s.partitions; p++) part.run(s.id, p);
    })();
    return s;
  }

  async getStream(idOrName: string): Promise<StreamInfo | undefined> {
    return this.stmt(`SELECT id, name, partitions, retention_ms, created_at, updated_at FROM streams WHERE id = ? OR name = ?`)
      .get(idOrName, idOrName) as StreamInfo | undefined;
  }

  async listStreams(opts: { after?: string; limit: number; name?: string }): Promise<StreamInfo[]> {
    return this.stmt(`SELECT id, name, partitions, retention_ms, created_at, updated_at FROM streams
                WHERE name > ? AND (? IS NULL OR name = ?) ORDER BY name LIMIT ?`)
      .all(opts.after ?? '', opts.name ?? null, opts.name ?? null, opts.limit) as StreamInfo[];
  }

  async updateRetention(id: string, retentionMs: number, updatedAt: string): Promise<void> {
    this.stmt(`UPDATE streams SET retention_ms = ?, updated_at = ? WHERE id = ?`).run(retentionMs, updatedAt, id);
  }

  async deleteStream(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.stmt(`DELETE FROM stream_messages WHERE stream_id = ?`).run(id);
      this.stmt(`DELETE FROM consumer_offsets WHERE stream_id = ?`).run(id);
      return this.stmt(`DELETE FROM streams WHERE id = ?`).run(id).changes > 0;
    })();
  }

  async append(stream: StreamInfo, messages: NewMessage[], now = Date.now()): Promise<AppendedAt[]> {
    const result = this.db.transaction(() => this.appendInTransaction(stream, messages, now))();
    this.wakeReaders(stream.id, result);
    return result;
  }

  /** The append itself; the caller holds the transaction. */
  private appendInTransaction(stream: StreamInfo, messages: NewMessage[], now: number): AppendedAt[] {
    const row = this.stmt(`SELECT rr FROM streams WHERE id = ?`).get(stream.id) as { rr: number } | undefined;
    if (!row) throw new Error(`stream "${stream.name}" no longer exists`);
    const { placed, used } = placeMessages(messages, stream.partitions, row.rr);
    const bump = this.stmt(
      `UPDATE stream_partitions SET next_offset = next_offset + 1 WHERE stream_id = ? AND partition = ? RETURNING next_offset - 1 AS offset`,
    );
    const insert = this.stmt(
      `INSERT INTO stream_messages (stream_id, partition, offset, ts, key, value, headers) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const out = messages.map((m, i) => {
      const partition = placed[i] as number;
      const { offset } = bump.get(stream.id, partition) as { offset: number };
      insert.run(stream.id, partition, offset, m.timestamp ?? now, m.key ?? null, m.value, headersColumn(m.headers));
      return { partition, offset };
    });
    if (used > 0) this.stmt(`UPDATE streams SET rr = ? WHERE id = ?`).run((row.rr + used) % stream.partitions, stream.id);
    return out;
  }

  private wakeReaders(streamId: string, appended: AppendedAt[]): void {
    for (const p of new Set(appended.map((r) => r.partition))) this.waiters.wake(streamId, p);
  }

  async read(streamId: string, partition: number, offset: number, limit: number, maxBytes = Infinity): Promise<StoredMessage[]> {
    const rows = this.stmt(`SELECT partition, offset, ts, key, value, headers FROM stream_messages
                WHERE stream_id = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?`)
      .all(streamId, partition, offset, limit) as MessageRow[];
    return withinBytes(rows.map(messageFromRow), maxBytes);
  }

  async bounds(streamId: string): Promise<PartitionBounds[]> {
    return this.boundsNow(streamId);
  }

  private boundsNow(streamId: string): PartitionBounds[] {
    return (this.stmt(`SELECT partition, start_offset AS start, next_offset AS "end" FROM stream_partitions WHERE stream_id = ? ORDER BY partition`)
      .all(streamId) as PartitionBounds[]);
  }

  async offsetForTime(streamId: string, partition: number, ts: number): Promise<number> {
    const row = this.stmt(`SELECT MIN(offset) AS offset FROM stream_messages WHERE stream_id = ? AND partition = ? AND ts >= ?`)
      .get(streamId, partition, ts) as { offset: number | null };
    if (row.offset !== null) return row.offset;
    return this.boundsNow(streamId).find((b) => b.partition === partition)?.end ?? 0;
  }

  waitForAppend(streamId: string, partition: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.waiters.wait(streamId, partition, timeoutMs, signal);
  }

  async getGroupOffsets(group: string, streamId: string): Promise<Map<number, number>> {
    const rows = this.stmt(`SELECT partition, offset FROM consumer_offsets WHERE group_id = ? AND stream_id = ?`)
      .all(group, streamId) as { partition: number; offset: number }[];
    return new Map(rows.map((r) => [r.partition, r.offset]));
  }

  /**
   * One statement, so its own transaction: the fence is checked just before it, and nothing else in the process can
   * run in between (better-sqlite3 is synchronous), which is what checking inside a transaction gives.
   */
  async commitOffset(position: GroupPosition, fence?: CommitFence): Promise<boolean> {
    if (!this.fenceHolds(position, fence)) return false;
    this.setOffset(position);
    return true;
  }

  async deadLetterAndCommit(deadLetters: StreamInfo, letters: NewMessage[], position: GroupPosition, fence: CommitFence): Promise<boolean> {
    let appended: AppendedAt[] = [];
    const committed = refusedAsFalse(() => this.db.transaction(() => {
      appended = this.appendInTransaction(deadLetters, letters, Date.now());
      deadLetterGapSync(this.opts.testDeadLetterGapMs ?? 0);
      this.setOffset(position);
      this.checkFence(position, fence);
    })());
    if (committed) this.wakeReaders(deadLetters.id, appended);
    return committed;
  }

  private setOffset(p: GroupPosition): void {
    this.stmt(`INSERT INTO consumer_offsets (group_id, stream_id, partition, offset, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (group_id, stream_id, partition) DO UPDATE SET offset = excluded.offset, updated_at = excluded.updated_at`)
      .run(p.group, p.streamId, p.partition, p.offset, new Date().toISOString());
  }

  /**
   * Inside the transaction, last: a fence that does not hold rolls everything back (better-sqlite3 rolls back a
   * transaction function that throws).
   */
  private checkFence(position: GroupPosition, fence: CommitFence | undefined): void {
    if (!this.fenceHolds(position, fence)) throw new FenceRefused();
  }

  /** No fence, or one that holds: the epoch is current and the lease (if any) still this server's. */
  private fenceHolds(position: GroupPosition, fence: CommitFence | undefined): boolean {
    return !fence || (fence.isCurrent() && this.leaseHeld(position, fence));
  }

  /**
   * The cross-server lease check. One SQLite file serves one server, which owns every partition: nothing to check
   * (a lease, when one is given, is this server's by construction); the in-process epoch is the fence.
   */
  private leaseHeld(_position: GroupPosition, _fence: CommitFence): boolean {
    return true;
  }

  async deleteGroup(group: string): Promise<void> {
    this.stmt(`DELETE FROM consumer_offsets WHERE group_id = ?`).run(group);
  }

  async trim(now = Date.now()): Promise<number> {
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

  async close(): Promise<void> {
    // The connection is the store's: it closes it.
  }
}

/** Thrown inside a transaction to roll it back when the fence does not hold; never leaves the log. */
class FenceRefused extends Error {}

/** True when the transaction committed, false when the fence rolled it back. */
function refusedAsFalse(run: () => void): boolean {
  try {
    run();
    return true;
  } catch (err) {
    if (err instanceof FenceRefused) return false;
    throw err;
  }
}
