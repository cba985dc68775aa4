import { idFloor } from '../ids.js';
import type { CallStore } from './datastore.js';
import type { GuardedPool } from './postgres-pool.js';
import type { CallRecord, CallResult, CallRetention, ClaimedCall, ClaimFence, DetachedInput, ListOptions, Page } from './models.js';
import { claimedFromRow, RECORD_COLUMNS, recordFromRow, type CallRow, type ClaimRow } from './rows.js';

const INSERT_COLUMNS = `id, app_id, fn_id, type, status, created_at, started_at, completed_at, duration_ms, trigger_id,
  batch, error, error_code, attempts, headers, body`;
const PARAMS_PER_ROW = 16;
/** Rows per INSERT: PostgreSQL takes at most 65535 parameters in one statement. */
const ROWS_PER_INSERT = 1000;

function rowParams(c: CallRecord, input: DetachedInput | undefined): unknown[] {
  return [c.id, c.app_id, c.fn_id, c.type, c.status, c.created_at, c.started_at ?? null, c.completed_at ?? null,
    c.duration_ms ?? null, c.trigger_id ?? null, c.batch ?? null, c.error ?? null, c.error_code ?? null, c.attempts,
    input ? JSON.stringify(input.headers) : null, input?.body ?? null];
}

/** `($1, ..., $16), ($17, ...)` for `rows` rows. */
function placeholders(rows: number): string {
  return Array.from({ length: rows }, (_, r) =>
    `(${Array.from({ length: PARAMS_PER_ROW }, (_, i) => `$${r * PARAMS_PER_ROW + i + 1}`).join(', ')})`).join(', ');
}

/** The fence on a claim, its parameters from `$first`: the call is still running under this owner and this claim. */
const FENCE = (first: number) => `id = $${first} AND status = 'running' AND owner = $${first + 1} AND claim_epoch = $${first + 2}`;

/** Call records and the detached-call queue in PostgreSQL, shared by every server on the database. */
export class PostgresCallStore implements CallStore {
  constructor(private readonly pool: GuardedPool) {}

  async insertMany(calls: readonly CallRecord[]): Promise<void> {
    for (let i = 0; i < calls.length; i += ROWS_PER_INSERT) {
      const chunk = calls.slice(i, i + ROWS_PER_INSERT);
      // Each chunk is one statement, so atomic by itself; a record already stored is left as it is, so a retry is harmless.
      await this.pool.query(`INSERT INTO calls (${INSERT_COLUMNS}) VALUES ${placeholders(chunk.length)} ON CONFLICT (id) DO NOTHING`,
        chunk.flatMap((c) => rowParams(c, undefined)));
    }
  }

  async get(fnId: string, id: string): Promise<CallRecord | undefined> {
    if (fnId.includes('\u0000') || id.includes('\u0000')) return undefined;
    const { rows: [row] } = await this.pool.query<CallRow>(`SELECT ${RECORD_COLUMNS} FROM calls WHERE id = $1 AND fn_id = $2`, [id, fnId]);
    return row && recordFromRow(row);
  }

  async list(fnId: string, opts: ListOptions): Promise<Page<CallRecord>> {
    if (fnId.includes('\u0000')) return { items: [] };
    // '~' sorts after every id character, so the first page starts at the newest call. PostgreSQL text cannot hold
    // U+0000: a cursor is cut there (ids never contain one).
    const after = (opts.after ?? '~').split('\u0000')[0] as string;
    const { rows } = await this.pool.query<CallRow>(
      `SELECT ${RECORD_COLUMNS} FROM calls WHERE fn_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, [fnId, after, opts.limit]);
    const items = rows.map(recordFromRow);
    const last = items[items.length - 1];
    return items.length === opts.limit && last !== undefined ? { items, nextCursor: last.id } : { items };
  }

  async trim(retention: CallRetention, nowMs: number): Promise<number> {
    // Ids sort by creation time, so the age cut is a range of the primary key.
    const old = await this.pool.query(`DELETE FROM calls WHERE id < $1 AND status NOT IN ('queued', 'running')`,
      [idFloor(nowMs - retention.maxAgeMs)]);
    // Past the newest `perFn` of its function (pending calls count towards them but are never deleted).
    const crowded = await this.pool.query(
      `DELETE FROM calls WHERE id IN (
         SELECT id FROM (SELECT id, status, row_number() OVER (PARTITION BY fn_id ORDER BY id DESC) AS n FROM calls) ranked
         WHERE n > $1 AND status NOT IN ('queued', 'running'))`,
      [retention.perFn]);
    return (old.rowCount ?? 0) + (crowded.rowCount ?? 0);
  }

  async enqueue(call: CallRecord, input: DetachedInput): Promise<void> {
    await this.pool.query(`INSERT INTO calls (${INSERT_COLUMNS}) VALUES ${placeholders(1)}`, rowParams({ ...call, status: 'queued' }, input));
  }

  async claim(owner: string, nowMs: number, skipFnIds: readonly string[], leaseMs: number): Promise<ClaimedCall | undefined> {
    // A call whose owner's lease ran out first (it has waited longest), else the oldest queued one. A server never
    // takes over its own call: it still runs it, or its restart queues it again (recover).
    return await this.claimWhere(`status = 'running' AND lease_expires_ms < $3 AND owner <> $1`, 'lease_expires_ms',
      owner, nowMs, skipFnIds, leaseMs) ??
      this.claimWhere(`status = 'queued' AND due_ms <= $3`, 'id', owner, nowMs, skipFnIds, leaseMs);
  }

  /**
   * The claim is one statement: the row is picked and locked FOR UPDATE SKIP LOCKED (a call another server is
   * claiming or renewing right now is passed over, not waited for, and never handed out twice; a renewal committed
   * meanwhile is seen, since the lock re-checks the condition on the newest row), then updated.
   */
  private async claimWhere(condition: string, order: string, owner: string, nowMs: number, skipFnIds: readonly string[],
    leaseMs: number): Promise<ClaimedCall | undefined> {
    const { rows: [row] } = await this.pool.query<ClaimRow>(
      `WITH picked AS (SELECT id, owner FROM calls WHERE ${condition} AND fn_id <> ALL($4::text[])
                       ORDER BY ${order} LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE calls c SET status = 'running', owner = $1, started_at = $2, attempts = c.attempts + 1,
         claim_epoch = c.claim_epoch + 1, lease_expires_ms = $5
       FROM picked WHERE c.id = picked.id
       RETURNING ${RECORD_COLUMNS.replace(/(\w+)/g, 'c.$1')}, c.headers, c.body, c.owner, c.claim_epoch, picked.owner AS previous_owner`,
      [owner, new Date(nowMs).toISOString(), nowMs, skipFnIds, nowMs + leaseMs]);
    return row && claimedFromRow(row);
  }

  async renew(owner: string, ids: readonly string[], untilMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE calls SET lease_expires_ms = $1 WHERE status = 'running' AND owner = $2 AND id = ANY($3::text[]) RETURNING id`,
      [untilMs, owner, ids]);
    return rows.map((r) => r.id);
  }

  async finish(claim: ClaimFence, r: CallResult): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE calls SET status = $1, completed_at = $2, duration_ms = $3, error = $4, error_code = $5,
         lease_expires_ms = NULL, headers = NULL, body = NULL WHERE ${FENCE(6)}`,
      [r.status, r.completed_at, r.duration_ms, r.error ?? null, r.error_code ?? null, claim.id, claim.owner, claim.epoch]);
    return res.rowCount === 1;
  }

  async requeue(claim: ClaimFence, dueMs: number, refund: boolean): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE calls SET status = 'queued', due_ms = $1, attempts = attempts - $2, owner = NULL, started_at = NULL,
         lease_expires_ms = NULL WHERE ${FENCE(3)}`,
      [dueMs, refund ? 1 : 0, claim.id, claim.owner, claim.epoch]);
    return res.rowCount === 1;
  }

  async recover(owner: string): Promise<number> {
    const res = await this.pool.query(
      `UPDATE calls SET status = 'queued', owner = NULL, started_at = NULL, lease_expires_ms = NULL
       WHERE status = 'running' AND owner = $1`, [owner]);
    return res.rowCount ?? 0;
  }

  async countPending(): Promise<number> {
    const { rows: [row] } = await this.pool.query<{ n: number }>(
      `SELECT (SELECT COUNT(*) FROM calls WHERE status = 'queued') + (SELECT COUNT(*) FROM calls WHERE status = 'running') AS n`);
    return row?.n ?? 0;
  }

  async nextDue(nowMs: number): Promise<number | undefined> {
    const { rows: [row] } = await this.pool.query<{ due: number | null }>(
      `SELECT MIN(due_ms) AS due FROM calls WHERE status = 'queued' AND due_ms > $1`, [nowMs]);
    return row?.due ?? undefined;
  }
}
