import type pg from 'pg';
import { errors } from '../../errors.js';
import type { PostgresDatastore } from '../../store/postgres.js';
import { GuardedPool } from '../../store/postgres-pool.js';
import {
  headersColumn, messageFromRow, placeMessages, withinBytes,
  type AppendedAt, type CommitFence, type GroupPosition, type MessageRow, type LeaseToken, type NewMessage, type PartitionBounds,
  type StoredMessage, type StreamInfo, type StreamLog,
} from './log.js';
import { deadLetterGap } from './test-hooks.js';
import { AppendWaiters } from './wake.js';

/** Every append NOTIFYs this channel once per partition it wrote, with `<stream id>/<partition>`. */
export const APPENDS_CHANNEL = 'fnts_stream_appends';
/** The advisory lock a retention pass holds (one server trims at a time): "fnts" + 1. */
const TRIM_LOCK = 0x666e7474;

const STREAM_COLUMNS = 'id, name, partitions, retention_ms, created_at, updated_at';

/** PostgreSQL text cannot hold U+0000: nothing stored is named with one. */
const hasNul = (s: string | undefined): boolean => s !== undefined && s.includes('\u0000');

/**
 * Checks, on the commit's own connection and inside its transaction, that `lease` still holds the partition of
 * `position` (its group is the trigger): partition leases plug in here when the log is opened, so a server that lost
 * its lease commits nothing. Lock the lease row (FOR SHARE / FOR UPDATE) if a takeover must wait for the commit.
 */
export type PostgresLeaseCheck = (client: pg.PoolClient, position: GroupPosition, lease: LeaseToken) => Promise<boolean>;

export interface PostgresStreamLogOptions {
  /** Test hook: stall this long between the dead letters and the commit, inside their transaction (0 = off). */
  testDeadLetterGapMs?: number;
  /** How a fence's lease is checked; a fence with a lease and no check here is refused (nothing unchecked commits). */
  leaseCheck?: PostgresLeaseCheck;
}

/**
 * The embedded log in PostgreSQL, on the store's pool, shared by every server on the database. Offsets: a partition's
 * row in `stream_partitions` holds its next offset; an append locks the rows of its partitions (in partition order, so
 * two appends cannot deadlock), moves them on by its message count and inserts its messages, in one transaction.
 * Another append to those partitions waits for the row locks until the first commits: offsets are dense (a rolled-back
 * append gives its offsets back) and become visible in offset order. Wake-ups: the append NOTIFYs in its transaction,
 * so every server's waiting readers wake when it commits (this server's are woken at once, without the round trip).
 */
export class PostgresStreamLog implements StreamLog {
  private readonly waiters = new AppendWaiters();
  private readonly db: GuardedPool;

  private constructor(pool: pg.Pool, private readonly opts: PostgresStreamLogOptions) {
    this.db = new GuardedPool(pool);
  }

  /** The log on the store's pool, listening for appends on the store's listening connection. */
  static async open(store: PostgresDatastore, opts: PostgresStreamLogOptions = {}): Promise<PostgresStreamLog> {
    const log = new PostgresStreamLog(store.pool, opts);
    await store.listener.subscribe(APPENDS_CHANNEL, {
      notified: (payload) => {
        const at = payload.lastIndexOf('/');
        if (at > 0) log.waiters.wake(payload.slice(0, at), Number(payload.slice(at + 1)));
      },
      // Appends notified while the connection was down were missed: every reader looks again.
      listening: (up) => {
        if (up) log.waiters.wakeAll();
      },
    });
    return log;
  }

  private async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return (await this.db.query<R>(sql, params)).rows;
  }

  async createStream(s: StreamInfo): Promise<StreamInfo> {
    await this.db.transaction(async (c) => {
      await c.query(`INSERT INTO streams (${STREAM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
        [s.id, s.name, s.partitions, s.retention_ms, s.created_at, s.updated_at]);
      await c.query(`INSERT INTO stream_partitions (stream_id, partition) SELECT $1, p FROM generate_series(0, $2 - 1) p`, [s.id, s.partitions]);
      return { commit: true, value: undefined };
    }).catch((err: unknown) => {
      // Two servers creating the same name at once: the loser hears what the API says to a duplicate.
      if ((err as { code?: string }).code === '23505') throw errors.conflict('Stream already exists');
      throw err;
    });
    return s;
  }

  async getStream(idOrName: string): Promise<StreamInfo | undefined> {
    if (hasNul(idOrName)) return undefined;
    const [row] = await this.rows<StreamInfo>(`SELECT ${STREAM_COLUMNS} FROM streams WHERE id = $1 OR name = $1`, [idOrName]);
    return row;
  }

  async listStreams(opts: { after?: string; limit: number; name?: string }): Promise<StreamInfo[]> {
    if (hasNul(opts.name)) return [];
    const after = opts.after ?? '';
    // Cut at its first U+0000, a cursor keeps its order against every storable name.
    const cut = hasNul(after) ? after.slice(0, after.indexOf('\u0000')) : after;
    return this.rows<StreamInfo>(`SELECT ${STREAM_COLUMNS} FROM streams WHERE name > $1 AND ($2::text IS NULL OR name = $2)
      ORDER BY name LIMIT $3`, [cut, opts.name ?? null, opts.limit]);
  }

  async updateRetention(id: string, retentionMs: number, updatedAt: string): Promise<void> {
    await this.db.query(`UPDATE streams SET retention_ms = $1, updated_at = $2 WHERE id = $3`, [retentionMs, updatedAt, id]);
  }

  async deleteStream(id: string): Promise<boolean> {
    if (hasNul(id)) return false;
    return (await this.db.transaction(async (c) => {
      await c.query(`DELETE FROM stream_messages WHERE stream_id = $1`, [id]);
      await c.query(`DELETE FROM consumer_offsets WHERE stream_id = $1`, [id]);
      return { commit: true, value: ((await c.query(`DELETE FROM streams WHERE id = $1`, [id])).rowCount ?? 0) > 0 };
    })).value;
  }

  async append(stream: StreamInfo, messages: NewMessage[], now = Date.now()): Promise<AppendedAt[]> {
    const { value } = await this.db.transaction(async (c) => ({ commit: true, value: await this.appendIn(c, stream, messages, now) }));
    this.wakeReaders(stream.id, value);
    return value;
  }

  /** The append itself, inside the caller's transaction; the NOTIFY goes out when that commits. */
  private async appendIn(c: pg.PoolClient, stream: StreamInfo, messages: NewMessage[], now: number): Promise<AppendedAt[]> {
    if (messages.length === 0) return [];
    const unkeyed = messages.filter((m) => !m.key).length;
    let rr = 0;
    // With one partition there is nothing to rotate: no lock on the stream's row either.
    if (unkeyed > 0 && stream.partitions > 1) {
      // Taking the round-robin slots locks the stream's row: unkeyed appends to a stream queue here, keyed ones do not.
      const { rows } = await c.query<{ rr: number }>(
        `UPDATE streams SET rr = (rr + $2) % partitions WHERE id = $1 RETURNING rr`, [stream.id, unkeyed]);
      if (!rows[0]) throw new Error(`stream "${stream.name}" no longer exists`);
      rr = (((rows[0].rr - unkeyed) % stream.partitions) + stream.partitions) % stream.partitions;
    }
    const { placed } = placeMessages(messages, stream.partitions, rr);
    const counts = new Map<number, number>();
    for (const p of placed) counts.set(p, (counts.get(p) ?? 0) + 1);
    const parts = [...counts.keys()].sort((a, b) => a - b);
    if (parts.length > 1) {
      // Locked in partition order (the lock is taken after the sort), then moved on in one statement. One partition
      // needs no ordering: the UPDATE below locks its row.
      const locked = await c.query(
        `SELECT partition FROM stream_partitions WHERE stream_id = $1 AND partition = ANY($2::int[]) ORDER BY partition FOR UPDATE`,
        [stream.id, parts]);
      if (locked.rowCount !== parts.length) throw new Error(`stream "${stream.name}" no longer exists`);
    }
    const { rows: firsts } = await c.query<{ partition: number; first: number }>(
      `UPDATE stream_partitions sp SET next_offset = sp.next_offset + v.n
         FROM unnest($2::int[], $3::int[]) AS v(partition, n)
        WHERE sp.stream_id = $1 AND sp.partition = v.partition
        RETURNING sp.partition, sp.next_offset - v.n AS first`,
      [stream.id, parts, parts.map((p) => counts.get(p))]);
    if (firsts.length !== parts.length) throw new Error(`stream "${stream.name}" no longer exists`);
    const next = new Map(firsts.map((r) => [r.partition, r.first]));
    const out = placed.map((partition) => {
      const offset = next.get(partition) as number;
      next.set(partition, offset + 1);
      return { partition, offset };
    });
    // The messages, and the notification (sent when the transaction commits), in one round trip.
    await c.query(
      `WITH stored AS (INSERT INTO stream_messages (stream_id, partition, "offset", ts, key, value, headers)
         SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::bytea[], $6::bytea[], $7::text[]))
       SELECT pg_notify($8, $1 || '/' || p) FROM unnest($9::int[]) AS p`,
      [stream.id, out.map((o) => o.partition), out.map((o) => o.offset), messages.map((m) => m.timestamp ?? now),
        messages.map((m) => m.key ?? null), messages.map((m) => m.value), messages.map((m) => headersColumn(m.headers)),
        APPENDS_CHANNEL, parts]);
    return out;
  }

  private wakeReaders(streamId: string, appended: AppendedAt[]): void {
    for (const p of new Set(appended.map((r) => r.partition))) this.waiters.wake(streamId, p);
  }

  async read(streamId: string, partition: number, offset: number, limit: number, maxBytes = Infinity): Promise<StoredMessage[]> {
    const rows = await this.rows<MessageRow>(`SELECT partition, "offset", ts, key, value, headers FROM stream_messages
      WHERE stream_id = $1 AND partition = $2 AND "offset" >= $3 ORDER BY "offset" LIMIT $4`, [streamId, partition, offset, limit]);
    return withinBytes(rows.map(messageFromRow), maxBytes);
  }

  async bounds(streamId: string): Promise<PartitionBounds[]> {
    if (hasNul(streamId)) return [];
    return this.rows<PartitionBounds>(`SELECT partition, start_offset AS start, next_offset AS "end" FROM stream_partitions
      WHERE stream_id = $1 ORDER BY partition`, [streamId]);
  }

  async offsetForTime(streamId: string, partition: number, ts: number): Promise<number> {
    // The first stored offset at or after ts, else the partition's end (one snapshot: the two agree).
    const [row] = await this.rows<{ offset: number | null }>(`SELECT COALESCE(
        (SELECT MIN("offset") FROM stream_messages WHERE stream_id = $1 AND partition = $2 AND ts >= $3),
        (SELECT next_offset FROM stream_partitions WHERE stream_id = $1 AND partition = $2), 0) AS "offset"`,
    [streamId, partition, ts]);
    return row?.offset ?? 0;
  }

  waitForAppend(streamId: string, partition: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.waiters.wait(streamId, partition, timeoutMs, signal);
  }

  async getGroupOffsets(group: string, streamId: string): Promise<Map<number, number>> {
    if (hasNul(group) || hasNul(streamId)) return new Map();
    const rows = await this.rows<{ partition: number; offset: number }>(
      `SELECT partition, "offset" FROM consumer_offsets WHERE group_id = $1 AND stream_id = $2`, [group, streamId]);
    return new Map(rows.map((r) => [r.partition, r.offset]));
  }

  async commitOffset(position: GroupPosition, fence?: CommitFence): Promise<boolean> {
    if (hasNul(position.group)) throw errors.validation('a consumer group name cannot contain U+0000');
    if (!fence) {
      await this.db.query(UPSERT_OFFSET, offsetParams(position));
      return true;
    }
    return (await this.db.transaction(async (c) => {
      await c.query(UPSERT_OFFSET, offsetParams(position));
      const commit = await this.fenceHolds(c, position, fence);
      return { commit, value: commit };
    }, BEGIN_WORKER_COMMIT)).value;
  }

  async deadLetterAndCommit(deadLetters: StreamInfo, letters: NewMessage[], position: GroupPosition, fence: CommitFence): Promise<boolean> {
    const { commit, value } = await this.db.transaction(async (c) => {
      const appended = await this.appendIn(c, deadLetters, letters, Date.now());
      await deadLetterGap(this.opts.testDeadLetterGapMs ?? 0);
      await c.query(UPSERT_OFFSET, offsetParams(position));
      return { commit: await this.fenceHolds(c, position, fence), value: appended };
    }, BEGIN_WORKER_COMMIT);
    if (commit) this.wakeReaders(deadLetters.id, value);
    return commit;
  }

  /**
   * Last in the transaction, once its rows are written and locked: a pause, seek or stop in this process after this
   * check waits for the commit's row lock (a seek writes the same offset row), so it lands after, never under it.
   */
  private async fenceHolds(c: pg.PoolClient, position: GroupPosition, fence: CommitFence): Promise<boolean> {
    return (await this.leaseHeld(c, position, fence)) && fence.isCurrent();
  }

  /**
   * The cross-server lease check, in the commit's transaction: a fence without a lease is a server that owns every
   * partition; one with a lease is checked by the `leaseCheck` the log was opened with.
   */
  private async leaseHeld(c: pg.PoolClient, position: GroupPosition, fence: CommitFence): Promise<boolean> {
    if (!fence.lease) return true;
    if (!this.opts.leaseCheck) throw new Error('a commit under a partition lease, but this log was opened without a lease check');
    return this.opts.leaseCheck(c, position, fence.lease);
  }

  async deleteGroup(group: string): Promise<void> {
    if (hasNul(group)) return;
    await this.db.query(`DELETE FROM consumer_offsets WHERE group_id = $1`, [group]);
  }

  async trim(now = Date.now()): Promise<number> {
    return (await this.db.transaction(async (c) => {
      // Servers sharing the database trim in turn: whoever finds the lock taken leaves this pass to the holder.
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [TRIM_LOCK]);
      if (!rows[0]?.ok) return { commit: true, value: 0 };
      const removed = await c.query(`DELETE FROM stream_messages m USING streams s
        WHERE m.stream_id = s.id AND m.ts < $1 - s.retention_ms`, [now]);
      if ((removed.rowCount ?? 0) === 0) return { commit: true, value: 0 };
      // A partition's start: its lowest stored offset, else its end, both as of one snapshot (an append committing
      // meanwhile is seen by neither), and never lower than it was.
      await c.query(`UPDATE stream_partitions sp SET start_offset = GREATEST(sp.start_offset, lo.start)
        FROM (SELECT p.stream_id, p.partition, COALESCE(
                (SELECT MIN("offset") FROM stream_messages m WHERE m.stream_id = p.stream_id AND m.partition = p.partition),
                p.next_offset) AS start
              FROM stream_partitions p) lo
        WHERE sp.stream_id = lo.stream_id AND sp.partition = lo.partition AND sp.start_offset < lo.start`);
      return { commit: true, value: removed.rowCount ?? 0 };
    })).value;
  }

  async close(): Promise<void> {
    // The pool and the listening connection are the store's: it closes them.
  }
}

/**
 * A worker's commit (and its dead letters) does not wait for the WAL flush: if the database itself crashes, it loses
 * the last such transactions whole (never half of one), so their batches are delivered again (at least once) and a
 * lost letter is lost with its commit (the record is dead-lettered again, once). Appends and operator commits (seek,
 * the groups API) stay synchronous: they are acknowledged to someone.
 */
const BEGIN_WORKER_COMMIT = 'BEGIN; SET LOCAL synchronous_commit = off';

const UPSERT_OFFSET = `INSERT INTO consumer_offsets (group_id, stream_id, partition, "offset", updated_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (group_id, stream_id, partition) DO UPDATE SET "offset" = excluded."offset", updated_at = excluded.updated_at`;

function offsetParams(p: GroupPosition): unknown[] {
  return [p.group, p.streamId, p.partition, p.offset, new Date().toISOString()];
}
