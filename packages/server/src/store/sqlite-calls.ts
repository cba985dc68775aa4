import type Database from 'better-sqlite3';
import { idFloor } from '../ids.js';
import type { CallStore } from './datastore.js';
import type { CallRecord, CallResult, CallRetention, ClaimedCall, ClaimFence, DetachedInput, ListOptions, Page } from './models.js';
import { claimedFromRow, RECORD_COLUMNS, recordFromRow, type CallRow, type ClaimRow } from './rows.js';

/** Schema of the call records, as one migration of the store (see sqlite.ts MIGRATIONS). */
export const CALLS_MIGRATION = `
  CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    fn_id TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    duration_ms INTEGER,
    trigger_id TEXT,
    batch TEXT,
    error TEXT,
    error_code TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- A queued detached call runs no earlier than this (epoch ms): retries after throttling back off.
    due_ms INTEGER NOT NULL DEFAULT 0,
    -- The server that claimed a running detached call.
    owner TEXT,
    -- A detached call's input, kept until it has run.
    headers TEXT,
    body BLOB
  );
  CREATE INDEX calls_by_fn ON calls (fn_id, id);
  CREATE INDEX calls_queued ON calls (id) WHERE status = 'queued';
  CREATE INDEX calls_running ON calls (owner) WHERE status = 'running';`;

/**
 * Claims become leases (a later migration of the store): a running call's lease is renewed by its owner, and each
 * claim has a number that fences its end. `owner` now stays on a finished call: the server that ran it to the end.
 * Calls left running by a server of an earlier version have no lease: only that server's restart queues them again.
 */
export const CALLS_LEASE_MIGRATION = `
  ALTER TABLE calls ADD COLUMN claim_epoch INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE calls ADD COLUMN lease_expires_ms INTEGER;
  CREATE INDEX calls_leases ON calls (lease_expires_ms) WHERE status = 'running';`;

/** The fence on a claim: the call is still running under this owner and this claim. */
const FENCE = `id = ? AND status = 'running' AND owner = ? AND claim_epoch = ?`;

// Written out once: the statement cache is keyed by the SQL text, and a record is inserted for every call.
const INSERT_INTO = `INTO calls (id, app_id, fn_id, type, status, created_at, started_at, completed_at, duration_ms,
  trigger_id, batch, error, error_code, attempts, headers, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT = `INSERT ${INSERT_INTO}`;
const INSERT_OR_IGNORE = `INSERT OR IGNORE ${INSERT_INTO}`;

/** Call records in the store's SQLite connection. */
export class SqliteCallStore implements CallStore {
  constructor(
    private readonly db: Database.Database,
    private readonly stmt: (sql: string) => Database.Statement,
  ) {}

  private insertRow(c: CallRecord, input: DetachedInput | undefined, orIgnore: boolean): void {
    this.stmt(orIgnore ? INSERT_OR_IGNORE : INSERT)
      .run(c.id, c.app_id, c.fn_id, c.type, c.status, c.created_at, c.started_at ?? null, c.completed_at ?? null,
        c.duration_ms ?? null, c.trigger_id ?? null, c.batch ?? null, c.error ?? null, c.error_code ?? null, c.attempts,
        input ? JSON.stringify(input.headers) : null, input?.body ?? null);
  }

  private readonly insertAll = (calls: readonly CallRecord[]) => {
    this.db.transaction(() => {
      for (const c of calls) this.insertRow(c, undefined, true);
    })();
  };

  async insertMany(calls: readonly CallRecord[]): Promise<void> {
    if (calls.length > 0) this.insertAll(calls);
  }

  async get(fnId: string, id: string): Promise<CallRecord | undefined> {
    const row = this.stmt(`SELECT ${RECORD_COLUMNS} FROM calls WHERE id = ? AND fn_id = ?`).get(id, fnId) as CallRow | undefined;
    return row && recordFromRow(row);
  }

  async list(fnId: string, opts: ListOptions): Promise<Page<CallRecord>> {
    // '~' sorts after every id character, so the first page starts at the newest call.
    const rows = this.stmt(`SELECT ${RECORD_COLUMNS} FROM calls WHERE fn_id = ? AND id < ? ORDER BY id DESC LIMIT ?`)
      .all(fnId, opts.after ?? '~', opts.limit) as CallRow[];
    const items = rows.map(recordFromRow);
    const last = items[items.length - 1];
    return items.length === opts.limit && last !== undefined ? { items, nextCursor: last.id } : { items };
  }

  async trim(retention: CallRetention, nowMs: number): Promise<number> {
    return this.db.transaction(() => {
      // Ids sort by creation time, so the age cut is a range of the primary key.
      let removed = this.stmt(`DELETE FROM calls WHERE id < ? AND status NOT IN ('queued', 'running')`)
        .run(idFloor(nowMs - retention.maxAgeMs)).changes;
      const crowded = this.stmt(`SELECT fn_id FROM calls GROUP BY fn_id HAVING COUNT(*) > ?`)
        .all(retention.perFn) as { fn_id: string }[];
      for (const { fn_id } of crowded) {
        removed += this.stmt(`DELETE FROM calls WHERE fn_id = ? AND status NOT IN ('queued', 'running')
                                AND id <= (SELECT id FROM calls WHERE fn_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`)
          .run(fn_id, fn_id, retention.perFn).changes;
      }
      return removed;
    })();
  }

  async enqueue(call: CallRecord, input: DetachedInput): Promise<void> {
    this.insertRow({ ...call, status: 'queued' }, input, false);
  }

  async claim(owner: string, nowMs: number, skipFnIds: readonly string[], leaseMs: number): Promise<ClaimedCall | undefined> {
    // One immediate transaction: SQLite has one writer at a time, so no two claimers get the same call.
    return this.claimOne(owner, nowMs, JSON.stringify(skipFnIds), leaseMs);
  }

  private readonly claimOne = (owner: string, nowMs: number, skip: string, leaseMs: number): ClaimedCall | undefined =>
    this.db.transaction(() => {
      // A call whose owner's lease ran out first (it has waited longest); a server never takes over its own call:
      // it still runs it, or its restart queues it again (recover).
      const picked = (this.stmt(`SELECT id, owner FROM calls WHERE status = 'running' AND lease_expires_ms < ? AND owner <> ?
            AND fn_id NOT IN (SELECT value FROM json_each(?)) ORDER BY lease_expires_ms LIMIT 1`).get(nowMs, owner, skip) ??
        this.stmt(`SELECT id, owner FROM calls WHERE status = 'queued' AND due_ms <= ?
            AND fn_id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT 1`).get(nowMs, skip)) as
        { id: string; owner: string | null } | undefined;
      if (!picked) return undefined;
      const row = this.stmt(`UPDATE calls SET status = 'running', owner = ?, started_at = ?, attempts = attempts + 1,
            claim_epoch = claim_epoch + 1, lease_expires_ms = ? WHERE id = ?
          RETURNING ${RECORD_COLUMNS}, headers, body, owner, claim_epoch`)
        .get(owner, new Date(nowMs).toISOString(), nowMs + leaseMs, picked.id) as Omit<ClaimRow, 'previous_owner'>;
      return claimedFromRow({ ...row, previous_owner: picked.owner });
    }).immediate();

  async renew(owner: string, ids: readonly string[], untilMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = this.stmt(`UPDATE calls SET lease_expires_ms = ?
        WHERE status = 'running' AND owner = ? AND id IN (SELECT value FROM json_each(?)) RETURNING id`)
      .all(untilMs, owner, JSON.stringify(ids)) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async finish(claim: ClaimFence, r: CallResult): Promise<boolean> {
    return this.stmt(`UPDATE calls SET status = ?, completed_at = ?, duration_ms = ?, error = ?, error_code = ?,
                 lease_expires_ms = NULL, headers = NULL, body = NULL WHERE ${FENCE}`)
      .run(r.status, r.completed_at, r.duration_ms, r.error ?? null, r.error_code ?? null, claim.id, claim.owner, claim.epoch)
      .changes === 1;
  }

  async requeue(claim: ClaimFence, dueMs: number, refund: boolean): Promise<boolean> {
    return this.stmt(`UPDATE calls SET status = 'queued', due_ms = ?, attempts = attempts - ?, owner = NULL, started_at = NULL,
                 lease_expires_ms = NULL WHERE ${FENCE}`)
      .run(dueMs, refund ? 1 : 0, claim.id, claim.owner, claim.epoch).changes === 1;
  }

  async recover(owner: string): Promise<number> {
    return this.stmt(`UPDATE calls SET status = 'queued', owner = NULL, started_at = NULL, lease_expires_ms = NULL
                        WHERE status = 'running' AND owner = ?`)
      .run(owner).changes;
  }

  async countPending(): Promise<number> {
    const q = this.stmt(`SELECT COUNT(*) AS n FROM calls WHERE status = 'queued'`).get() as { n: number };
    const r = this.stmt(`SELECT COUNT(*) AS n FROM calls WHERE status = 'running'`).get() as { n: number };
    return q.n + r.n;
  }

  async nextDue(nowMs: number): Promise<number | undefined> {
    const row = this.stmt(`SELECT MIN(due_ms) AS due FROM calls WHERE status = 'queued' AND due_ms > ?`).get(nowMs) as
      { due: number | null };
    return row.due ?? undefined;
  }
}
