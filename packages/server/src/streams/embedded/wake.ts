import { EventEmitter } from 'node:events';

/** Readers waiting for appends, per partition: woken by this server's appends and (PostgreSQL) other servers'. */
export class AppendWaiters {
  private readonly appended = new EventEmitter();

  constructor() {
    this.appended.setMaxListeners(0);
  }

  /** Wakes every reader of the partition. */
  wake(streamId: string, partition: number): void {
    this.appended.emit(`${streamId}/${partition}`);
  }

  /** Wakes every reader: appends may have been missed (the listening connection was down). */
  wakeAll(): void {
    for (const event of this.appended.eventNames()) this.appended.emit(event);
  }

  /** Resolves once the partition is woken, the wait times out, or the signal aborts. */
  wait(streamId: string, partition: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    // An abort that came first (a nudge while the worker was busy before its wait) is not an event any more.
    if (signal.aborted) return Promise.resolve();
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
}
