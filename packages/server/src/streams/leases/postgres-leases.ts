import type pg from 'pg';
import type { Logger } from 'pino';
import type { PostgresListener } from '../../store/postgres-listen.js';
import type { PostgresLeaseCheck } from '../embedded/postgres-log.js';
import { leaseGroupOf } from '../embedded/source.js';

/**
 * Partition ownership of embedded stream triggers when several servers share one PostgreSQL database.
 *
 * Rows with expiry rather than session advisory locks: an advisory lock lives as long as its TCP session, and a server
 * that is stopped (SIGSTOP, a long GC pause, a frozen VM) keeps its session and so its locks for as long as the kernel
 * keeps the connection: nobody could take its partitions over, and nothing would tell it that it should stop. A lease
 * row carries an expiry the database's own clock judges (no skew between servers) and an epoch that every takeover
 * raises: whatever the old owner does once it runs again, its commits name the old epoch and are refused.
 *
 * - `stream_servers`: one row per live server, its heartbeat renewed with its leases; the live servers decide each
 *   one's share of a trigger's partitions (ceil(partitions / live servers)).
 * - `stream_leases`: one row per (trigger, partition): owner, epoch, expires_at. The owner renews it; another server
 *   takes it only once it is free (released, or expired), raising the epoch.
 * - A commit or dead-letter write checks owner and epoch in its own transaction, holding the row (FOR SHARE) so a
 *   takeover cannot slip between the check and the write (`fenceHolds`).
 */

/** The partitions of a trigger this server holds, with the epoch each was taken at. */
export type HeldLeases = ReadonlyMap<number, number>;

/** What a member is told: partitions won (start them) and lost (stop them; `drain` when there is time to finish). */
export interface LeaseChange {
  won: { partition: number; epoch: number }[];
  lost: number[];
  /** True when the partitions are still ours until released (a hand-over): the batch in flight may finish. */
  drain: boolean;
}

export type LeaseListener = (change: LeaseChange) => Promise<void>;

/** What a commit names so the database can refuse it when the partition moved on. */
export interface LeaseFence {
  triggerId: string;
  partition: number;
  owner: string;
  epoch: number;
}

/** A row of `stream_leases`, for status. */
export interface LeaseRow {
  partition: number;
  owner: string | null;
  epoch: number;
  expired: boolean;
}

export interface LeaseSettings {
  /** A lease not renewed for this long may be taken by another server; the takeover bound is about ttl + renew. */
  ttlMs: number;
  /** How often leases and the heartbeat are renewed and shares rebalanced (a third of the ttl by default). */
  renewMs?: number;
}

// Its tables (stream_servers, stream_leases) are migration 4 of the store (store/postgres-schema.ts).

/** Where servers announce a released or re-epoched lease, so the others look at once instead of at their next renewal. */
export const LEASES_CHANNEL = 'fnts_stream_leases';

/** The statement a fenced write runs first, in its transaction: one row when the lease is still the writer's. */
export const FENCE_SQL = `SELECT 1 FROM stream_leases WHERE trigger_id = $1 AND partition = $2 AND owner = $3 AND epoch = $4 FOR SHARE`;

/** Whether the fence still holds; run inside the write's transaction (the row stays locked until it ends). */
export async function fenceHolds(client: Pick<pg.ClientBase, 'query'>, f: LeaseFence): Promise<boolean> {
  const { rowCount } = await client.query(FENCE_SQL, [f.triggerId, f.partition, f.owner, f.epoch]);
  return (rowCount ?? 0) > 0;
}

/**
 * The PostgreSQL log's lease check (a consumer group is a trigger id, or `<trigger id>:inflight` for the partial batches
 * in flight: fenced by the trigger's lease): owner and epoch, in the commit's transaction.
 */
export const leasedCommitCheck: PostgresLeaseCheck = (client, position, lease) =>
  fenceHolds(client, { triggerId: leaseGroupOf(position.group), partition: position.partition, owner: lease.owner, epoch: lease.epoch });

interface Member {
  triggerId: string;
  partitions: number;
  listener: LeaseListener;
  /** What the database said at the last renewal: partition → epoch. */
  held: Map<number, number>;
  /** Changes for the listener run one at a time, in order. */
  queue: Promise<void>;
  /** Partitions being handed over (draining, then released): renewals keep them alive but do not report them. */
  releasing: Set<number>;
  left: boolean;
}

/** One per server: renews its heartbeat and leases, and spreads each joined trigger's partitions over live servers. */
export class PostgresLeaseCoordinator {
  private readonly members = new Map<string, Member>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  /** When the last tick renewed everything (Date.now()). */
  private lastRenewal = Date.now();
  readonly ttlMs: number;
  readonly renewMs: number;
  /**
   * Run before every renewal (the manager re-reads the triggers): a change made through another server, a pause say,
   * is in place before partitions restart under new epochs. Bounded by the renewal interval, so leases never lapse.
   */
  beforeTick: (() => Promise<void>) | undefined;

  constructor(
    private readonly pool: pg.Pool,
    /** The server's LISTEN connection (the store's): other servers' releases and seeks wake this one at once. */
    private readonly listener: Pick<PostgresListener, 'subscribe'> | undefined,
    readonly serverId: string,
    settings: LeaseSettings,
    private readonly log: Logger,
  ) {
    this.ttlMs = settings.ttlMs;
    this.renewMs = settings.renewMs ?? Math.max(50, Math.floor(settings.ttlMs / 3));
  }

  /** Announces this server and frees leases a previous run under the same id left (it is gone: it was us). */
  async start(): Promise<void> {
    await this.pool.query(`INSERT INTO stream_servers (server_id, heartbeat_at) VALUES ($1, now())
                           ON CONFLICT (server_id) DO UPDATE SET heartbeat_at = now()`, [this.serverId]);
    const freed = await this.pool.query(`UPDATE stream_leases SET owner = NULL, expires_at = '-infinity' WHERE owner = $1`, [this.serverId]);
    if ((freed.rowCount ?? 0) > 0) this.log.info({ leases: freed.rowCount }, 'freed the leases an earlier run of this server held');
    // Servers killed long ago never deleted their heartbeat row; they count for nothing, so keep the table small.
    await this.pool.query(`DELETE FROM stream_servers WHERE heartbeat_at < now() - interval '1 day'`);
    await this.listen();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poke();
      this.schedule();
    }, this.renewMs);
  }

  /** Runs a tick now (after the one running, if any). */
  poke(): Promise<void> {
    this.ticking = this.ticking.then(() => this.tick()).catch((err: unknown) => {
      this.log.warn({ err }, 'lease renewal failed; retrying at the next tick');
      this.dropIfStale();
    });
    return this.ticking;
  }

  /** Listens for other servers' releases and seeks so this one reacts at once (best effort: the timer covers it). */
  private async listen(): Promise<void> {
    await this.listener?.subscribe(LEASES_CHANNEL, {
      notified: () => void this.poke(),
      // Back after the connection broke: whatever was announced meanwhile was missed, so look now.
      listening: (up) => {
        if (up) void this.poke();
      },
    });
  }

  /** Tells every server to look at the leases now. */
  async announce(): Promise<void> {
    await this.pool.query(`NOTIFY ${LEASES_CHANNEL}`);
  }

  /** Takes part in spreading a trigger's partitions; the listener hears of every partition won or lost. */
  async join(triggerId: string, partitions: number, listener: LeaseListener): Promise<void> {
    await this.pool.query(
      `INSERT INTO stream_leases (trigger_id, partition) SELECT $1, g FROM generate_series(0, $2 - 1) g
       ON CONFLICT DO NOTHING`, [triggerId, partitions]);
    // A trigger moved to a stream with fewer partitions: the rows past them lease nothing.
    await this.pool.query(`DELETE FROM stream_leases WHERE trigger_id = $1 AND partition >= $2`, [triggerId, partitions]);
    this.members.set(triggerId, {
      triggerId, partitions, listener, held: new Map(), queue: Promise.resolve(), releasing: new Set(), left: false,
    });
    // Not awaited: a join made while a tick re-reads the triggers would wait for itself.
    void this.poke();
  }

  /** The partitions this server holds for a trigger, as the database said at the last renewal. */
  held(triggerId: string): HeldLeases {
    return this.members.get(triggerId)?.held ?? new Map();
  }

  /**
   * Leaves a trigger: its partitions are announced lost (drained while `drain`), then released so another server
   * takes them at once.
   */
  async leave(triggerId: string, drain: boolean): Promise<void> {
    const m = this.members.get(triggerId);
    if (!m) return;
    m.left = true;
    this.members.delete(triggerId);
    const lost = [...m.held.keys()];
    await this.enqueue(m, { won: [], lost, drain });
    await this.release(m, lost);
  }

  /** Every lease row of a trigger, for status: who owns each partition. */
  async rows(triggerId: string): Promise<LeaseRow[]> {
    const { rows } = await this.pool.query<LeaseRow>(
      `SELECT partition, owner, epoch, expires_at < now() AS expired FROM stream_leases WHERE trigger_id = $1 ORDER BY partition`,
      [triggerId]);
    return rows;
  }

  /** Drops a deleted trigger's lease rows. */
  async forget(triggerId: string): Promise<void> {
    await this.pool.query(`DELETE FROM stream_leases WHERE trigger_id = $1`, [triggerId]);
  }

  /**
   * Raises the epoch of some partitions (all when none are named): any commit of a batch in flight is refused from now
   * on, and each owner restarts the partition from the committed offset at its next renewal (a seek or a pause made
   * through any server). `announce` makes that next renewal now.
   */
  async bumpEpochs(triggerId: string, partitions?: number[]): Promise<void> {
    await this.pool.query(
      `UPDATE stream_leases SET epoch = epoch + 1 WHERE trigger_id = $1 AND ($2::int[] IS NULL OR partition = ANY($2))`,
      [triggerId, partitions ?? null]);
  }

  /** Resolves once this server has renewed and applied what it found (its workers run under the current epochs). */
  async settled(triggerId: string): Promise<void> {
    await this.poke();
    await this.members.get(triggerId)?.queue;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.beforeTick) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.beforeTick().catch((err: unknown) => this.log.warn({ err }, 'reading stream triggers before the lease renewal failed')),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.renewMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const ttl = `${this.ttlMs} milliseconds`;
    await this.pool.query(`INSERT INTO stream_servers (server_id, heartbeat_at) VALUES ($1, now())
                           ON CONFLICT (server_id) DO UPDATE SET heartbeat_at = now()`, [this.serverId]);
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stream_servers WHERE heartbeat_at > now() - $1::interval`, [ttl]);
    const live = Math.max(1, rows[0]?.n ?? 1);
    for (const m of [...this.members.values()]) {
      await this.renew(m, ttl);
      await this.balance(m, live, ttl);
    }
    this.lastRenewal = Date.now();
  }

  /**
   * Cut off from the database for longer than a lease lasts, this server stops its partitions: another server may
   * hold them by now (its commits would be refused anyway; this spares the function the duplicate calls). Once the
   * database answers again, the leases still ours come back at the next renewal.
   */
  private dropIfStale(): void {
    if (Date.now() - this.lastRenewal <= this.ttlMs) return;
    for (const m of this.members.values()) {
      if (m.held.size === 0) continue;
      const lost = [...m.held.keys()];
      m.held = new Map();
      this.log.warn({ trigger_id: m.triggerId, partitions: lost }, 'leases not renewed for longer than they last: their partitions stop here');
      void this.enqueue(m, { won: [], lost, drain: false });
    }
  }

  /** Renews this server's leases of a trigger; a partition gone or re-epoched is lost (a seek restarts it). */
  private async renew(m: Member, ttl: string): Promise<void> {
    const { rows } = await this.pool.query<{ partition: number; epoch: number }>(
      `UPDATE stream_leases SET expires_at = now() + $3::interval WHERE trigger_id = $1 AND owner = $2 RETURNING partition, epoch`,
      [m.triggerId, this.serverId, ttl]);
    if (m.left) return;
    const now = new Map(rows.filter((r) => !m.releasing.has(r.partition)).map((r) => [r.partition, Number(r.epoch)]));
    const lost = [...m.held.keys()].filter((p) => now.get(p) !== m.held.get(p));
    const won = [...now].filter(([p, e]) => m.held.get(p) !== e).map(([partition, epoch]) => ({ partition, epoch }));
    if (lost.length === 0 && won.length === 0) return;
    m.held = now;
    if (lost.length > 0) this.log.warn({ trigger_id: m.triggerId, partitions: lost }, 'leases lost or re-epoched: their batches are fenced');
    void this.enqueue(m, { won: [], lost, drain: false });
    if (won.length > 0) void this.enqueue(m, { won, lost: [], drain: false });
  }

  /**
   * Gives back partitions above this server's share, or takes free ones up to it. A hand-over waits for the drain in
   * the background: it must not hold up the renewals of this and every other trigger.
   */
  private async balance(m: Member, live: number, ttl: string): Promise<void> {
    if (m.left || m.releasing.size > 0) return;
    const share = Math.ceil(m.partitions / live);
    if (m.held.size > share) {
      const give = [...m.held.keys()].sort((a, b) => b - a).slice(0, m.held.size - share);
      this.log.info({ trigger_id: m.triggerId, partitions: give, live_servers: live, share }, 'handing partitions over');
      for (const p of give) {
        m.held.delete(p);
        m.releasing.add(p);
      }
      void this.enqueue(m, { won: [], lost: give, drain: true })
        .then(() => this.release(m, give))
        .catch((err: unknown) => this.log.warn({ err, trigger_id: m.triggerId }, 'handing partitions over failed; they expire instead'))
        .finally(() => {
          for (const p of give) m.releasing.delete(p);
        });
      return;
    }
    if (m.held.size >= share) return;
    const { rows } = await this.pool.query<{ partition: number; epoch: number }>(
      `UPDATE stream_leases l SET owner = $2, epoch = l.epoch + 1, expires_at = now() + $4::interval
       FROM (SELECT partition FROM stream_leases WHERE trigger_id = $1 AND partition < $5 AND (owner IS NULL OR expires_at < now())
             ORDER BY partition LIMIT $3 FOR UPDATE SKIP LOCKED) free
       WHERE l.trigger_id = $1 AND l.partition = free.partition
       RETURNING l.partition, l.epoch`,
      [m.triggerId, this.serverId, share - m.held.size, ttl, m.partitions]);
    if (rows.length === 0 || m.left) {
      if (m.left && rows.length > 0) await this.release(m, rows.map((r) => r.partition));
      return;
    }
    const won = rows.map((r) => ({ partition: r.partition, epoch: Number(r.epoch) }));
    for (const w of won) m.held.set(w.partition, w.epoch);
    this.log.info({ trigger_id: m.triggerId, partitions: won, live_servers: live, share }, 'partitions leased');
    void this.enqueue(m, { won, lost: [], drain: false });
  }

  /** Frees leases this server holds (only at the epoch it holds them: a re-epoched one is not ours to free). */
  private async release(m: Member, partitions: number[]): Promise<void> {
    if (partitions.length === 0) return;
    await this.pool.query(
      `UPDATE stream_leases SET owner = NULL, expires_at = '-infinity' WHERE trigger_id = $1 AND owner = $2 AND partition = ANY($3)`,
      [m.triggerId, this.serverId, partitions]);
    await this.announce().catch(() => undefined);
  }

  private enqueue(m: Member, change: LeaseChange): Promise<void> {
    m.queue = m.queue.then(() => m.listener(change)).catch((err: unknown) => {
      this.log.error({ err, trigger_id: m.triggerId }, 'applying a lease change failed');
    });
    return m.queue;
  }

  /** Stops renewing and forgets this server's heartbeat (members left already: runners stop before this). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.pool.query(`DELETE FROM stream_servers WHERE server_id = $1`, [this.serverId]).catch(() => undefined);
    await this.announce().catch(() => undefined);
  }
}
