import pg from 'pg';
import type { App, Fn } from './models.js';

/** The channel every server's store listens on; any write of an app or a fn notifies it (payload unused). */
export const CHANGES_CHANNEL = 'fnts_changes';
/** How long to wait before listening again after the listening connection broke. */
const RELISTEN_DELAY_MS = 1000;

/**
 * Apps and fns by id, read on every invoke, kept in this process while a dedicated connection LISTENs for changes:
 * every write through any server NOTIFYs after it commits, and each server then drops its whole cache (writes are
 * rare next to calls; dropping all of it keeps this simple and correct). A write through this server drops the cache
 * before it answers, so its own client always reads its write.
 *
 * Only while the listening connection is up are values added: a notification missed while it was down is covered by
 * dropping everything when it comes back. Values already held are kept while it is down, so calls of functions this
 * server knows keep working while the database is away (a write elsewhere in that time — only possible if just this
 * server lost the database — is seen once the connection is back).
 */
export class ChangeListeningCache {
  private readonly byId = new Map<string, Readonly<App | Fn>>();
  /** Bumped on every drop: a value loaded before a drop must not be stored after it. */
  private generation = 0;
  private listening = false;
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly config: pg.ClientConfig) {}

  /** Starts listening; resolves once the first LISTEN is in place (or failed: it keeps trying in the background). */
  async start(): Promise<void> {
    await this.listen();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.config);
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.listening = false;
      void client.end().catch(() => undefined);
      if (!this.closed) this.retry = setTimeout(() => void this.listen(), RELISTEN_DELAY_MS);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => this.drop());
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      // Whatever changed while nobody listened is unknown: start empty.
      this.drop();
      this.listening = true;
    } catch {
      lost();
    }
  }

  /** Moves on every drop; undefined while not listening, when a change elsewhere could go unseen. */
  get stamp(): number | undefined {
    return this.listening ? this.generation : undefined;
  }

  /** The cached value, or `load`'s (kept only while listening and if nothing was dropped meanwhile). */
  async get<T extends App | Fn>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
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

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.listening = false;
    await client?.end().catch(() => undefined);
  }
}
