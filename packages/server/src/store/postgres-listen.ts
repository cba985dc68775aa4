import pg from 'pg';

/** How long to wait before listening again after the listening connection broke. */
const RELISTEN_DELAY_MS = 1000;

/** One subscriber: its notifications, and whether the connection is listening for it (notifications may be missed while not). */
export interface ChannelSubscriber {
  notified(payload: string): void;
  /** Called with true once LISTEN is in place (again: whatever was notified meanwhile was missed), false when it is lost. */
  listening(up: boolean): void;
}

/**
 * One dedicated connection per server that LISTENs on every channel the server subscribes to (the pool's connections
 * come and go, a LISTEN must stay), reconnecting after a pause when it breaks. Channel names are fixed identifiers.
 */
export class PostgresListener {
  private readonly subscribers = new Map<string, Set<ChannelSubscriber>>();
  private client: pg.Client | undefined;
  private up = false;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly config: pg.ClientConfig) {}

  /** Whether LISTEN is in place on every subscribed channel. */
  get listening(): boolean {
    return this.up;
  }

  /** Starts listening; resolves once the first LISTEN is in place (or failed: it keeps trying in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Adds a subscriber; when the connection is up, listens on its channel before resolving. */
  async subscribe(channel: string, subscriber: ChannelSubscriber): Promise<void> {
    const set = this.subscribers.get(channel) ?? new Set();
    const fresh = set.size === 0;
    set.add(subscriber);
    this.subscribers.set(channel, set);
    const client = this.client;
    if (!this.up || !client) return;
    if (fresh) {
      try {
        await client.query(`LISTEN ${channel}`);
      } catch {
        // The connection broke: `lost` relistens on every channel and tells every subscriber.
        return;
      }
    }
    if (this.client === client && this.up) subscriber.listening(true);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.config);
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      const wasUp = this.up;
      this.up = false;
      void client.end().catch(() => undefined);
      if (wasUp) this.tell(false);
      if (!this.closed) this.retry = setTimeout(() => void this.connect(), RELISTEN_DELAY_MS);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      for (const s of this.subscribers.get(n.channel) ?? []) s.notified(n.payload ?? '');
    });
    this.client = client;
    try {
      await client.connect();
      for (const channel of this.subscribers.keys()) await client.query(`LISTEN ${channel}`);
      if (this.client !== client) return;
      this.up = true;
      this.tell(true);
    } catch {
      lost();
    }
  }

  private tell(up: boolean): void {
    for (const set of this.subscribers.values()) for (const s of set) s.listening(up);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.up = false;
    await client?.end().catch(() => undefined);
  }
}
