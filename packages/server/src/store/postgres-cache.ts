import type { App, Fn, Trigger } from './models.js';
import type { PostgresListener } from './postgres-listen.js';

/** The channel every server's store listens on; any write of an app, a fn or a trigger notifies it (payload unused). */
export const CHANGES_CHANNEL = 'fnts_changes';

/** What the cache holds: what a call reads before it runs (apps by id and name, fns by id, triggers by source). */
type Cached = App | Fn | Trigger;

/**
 * Apps and fns by id, apps by name and HTTP triggers by source, read on every invoke or trigger call, kept in this
 * process while the server's listening connection LISTENs for changes: every write through any server NOTIFYs after
 * it commits, and each server then drops its whole cache (writes are rare next to calls; dropping all of it keeps this
 * simple and correct). A write through this server drops the cache before it answers, so its own client always reads
 * its write.
 *
 * Only while the listening connection is up are values added: a notification missed while it was down is covered by
 * dropping everything when it comes back. Values already held are kept while it is down, so calls of functions this
 * server knows keep working while the database is away (a write elsewhere in that time — only possible if just this
 * server lost the database — is seen once the connection is back).
 */
export class ChangeListeningCache {
  private readonly byId = new Map<string, Readonly<Cached>>();
  /** Bumped on every drop: a value loaded before a drop must not be stored after it. */
  private generation = 0;
  private listening = false;

  constructor(private readonly listener: PostgresListener) {}

  /** Subscribes to the changes channel (the listener is started by the store). */
  async start(): Promise<void> {
    await this.listener.subscribe(CHANGES_CHANNEL, {
      notified: () => this.drop(),
      listening: (up) => {
        // Whatever changed while nobody listened is unknown: start empty.
        if (up) this.drop();
        this.listening = up;
      },
    });
  }

  /** Moves on every drop; undefined while not listening, when a change elsewhere could go unseen. */
  get stamp(): number | undefined {
    return this.listening ? this.generation : undefined;
  }

  /** The cached value, or `load`'s (kept only while listening and if nothing was dropped meanwhile). */
  async get<T extends Cached>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = this.byId.get(key) as T | undefined;
    if (hit) return hit;
    const generation = this.generation;
    const value = await load();
    if (value && this.listening && generation === this.generation) this.byId.set(key, Object.freeze(value));
    return value;
  }

  /** Forgets every value (a write here, or a notification of one elsewhere). */
  drop(): void {
    this.generation++;
    this.byId.clear();
  }
}
