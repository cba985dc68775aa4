import type {
  App, CallRecord, CallResult, CallRetention, ClaimedCall, ClaimFence, DetachedInput, Fn, ListOptions, Page, Trigger,
} from './models.js';

/** The one storage interface; SQLite (one server) and PostgreSQL (shared by several) implement it. */
export interface Datastore {
  insertApp(app: App): Promise<App>;
  updateApp(app: App): Promise<App>;
  getAppById(id: string): Promise<App | undefined>;
  getAppByName(name: string): Promise<App | undefined>;
  listApps(opts: ListOptions): Promise<Page<App>>;
  deleteApp(id: string): Promise<boolean>;

  insertFn(fn: Fn): Promise<Fn>;
  updateFn(fn: Fn): Promise<Fn>;
  getFnById(id: string): Promise<Fn | undefined>;
  getFnByName(appId: string, name: string): Promise<Fn | undefined>;
  listFns(appId: string, opts: ListOptions): Promise<Page<Fn>>;
  deleteFn(id: string): Promise<boolean>;

  insertTrigger(trigger: Trigger): Promise<Trigger>;
  updateTrigger(trigger: Trigger): Promise<Trigger>;
  getTriggerById(id: string): Promise<Trigger | undefined>;
  getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger | undefined>;
  listTriggers(appId: string, opts: ListOptions & { fnId?: string }): Promise<Page<Trigger>>;
  deleteTrigger(id: string): Promise<boolean>;
  /** Every trigger of one type across apps (the stream engine loads its triggers at start). */
  listTriggersByType(type: string): Promise<Trigger[]>;

  /** Server-wide facts that must survive restarts (e.g. the server id that labels its containers). */
  getMeta(key: string): Promise<string | undefined>;
  /** Stores `value` unless the key exists; returns what is stored. */
  setMetaIfAbsent(key: string, value: string): Promise<string>;

  /** Call records and the durable detached-call queue. */
  readonly calls: CallStore;

  /**
   * Changes whenever an app, fn or trigger may have changed (a write through this store or, with PostgreSQL, through
   * any server): what a caller resolved from them under one value is still current while the value holds. Undefined
   * while a change elsewhere could go unseen (PostgreSQL without its LISTEN connection): cache nothing then.
   */
  readonly changeStamp: number | undefined;

  close(): Promise<void>;
}

/**
 * Call records (sync and detached) and the detached calls waiting to run. A detached call is claimed by one
 * server at a time: the claim is a status transition to running in one statement, owned by that server, and a
 * lease: the owner renews it while the call runs, and once it has run out (the owner died or lost the database)
 * any other server may claim the call again. Every claim gets a new epoch, and only the current claim can end the
 * call or put it back, so a late result of a call taken over is dropped.
 */
export interface CallStore {
  /** Records finished calls in one transaction; an id already stored is left as it is. */
  insertMany(calls: readonly CallRecord[]): Promise<void>;
  get(fnId: string, id: string): Promise<CallRecord | undefined>;
  /** Newest first; `after` is the id of the last call of the previous page. */
  list(fnId: string, opts: ListOptions): Promise<Page<CallRecord>>;
  /** Deletes finished records past the retention; detached calls still queued or running are never deleted. */
  trim(retention: CallRetention, nowMs: number): Promise<number>;

  /** Stores a detached call as `queued` with its input (before the client gets its 202). */
  enqueue(call: CallRecord, input: DetachedInput): Promise<void>;
  /**
   * Claims, for `owner` with one more attempt and a lease until `nowMs + leaseMs`, a running call of another server
   * whose lease ran out or else the oldest queued call that is due, never of a function in `skipFnIds`; undefined
   * when there is none.
   */
  claim(owner: string, nowMs: number, skipFnIds: readonly string[], leaseMs: number): Promise<ClaimedCall | undefined>;
  /** Extends the leases `owner` still holds among `ids` to `untilMs`; returns the ids it still holds. */
  renew(owner: string, ids: readonly string[], untilMs: number): Promise<string[]>;
  /** Ends a running call and forgets its input, if `claim` is still its current claim; false when it was taken over. */
  finish(claim: ClaimFence, result: CallResult): Promise<boolean>;
  /**
   * Puts a running call back in the queue, due at `dueMs`, if `claim` is still its current claim; `refund` takes
   * back the attempt its claim counted.
   */
  requeue(claim: ClaimFence, dueMs: number, refund: boolean): Promise<boolean>;
  /** Queues again the calls `owner` left running (it stopped or crashed mid-call); returns how many. */
  recover(owner: string): Promise<number>;
  /** Detached calls queued or running, across servers. */
  countPending(): Promise<number>;
  /** When the next queued call that waits for a retry is due (epoch ms), if any. */
  nextDue(nowMs: number): Promise<number | undefined>;
}

/** Thrown by a store when a unique constraint would be broken; the API maps it to a 409. */
export class UniqueViolation extends Error {
  constructor(readonly entity: 'app' | 'fn' | 'trigger', readonly field: string) {
    super(`${entity} ${field} already exists`);
    this.name = 'UniqueViolation';
  }
}
