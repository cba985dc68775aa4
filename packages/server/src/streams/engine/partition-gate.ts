import { Semaphore } from './semaphore.js';

/**
 * Lets a partition's worker start batches through the trigger's shared concurrency limit, until it is closed: then
 * no new batch starts (the worker waits to be stopped) and `idle` tells when the batch in flight is over.
 */
export class PartitionGate extends Semaphore {
  private closed = false;
  private held = false;
  private readonly idlers = new Set<() => void>();

  constructor(private readonly shared: Semaphore) {
    super(1);
  }

  /** A batch is in flight (from before the call to its commit or its retry wait). */
  get busy(): boolean {
    return this.held;
  }

  override async acquire(signal: AbortSignal): Promise<boolean> {
    if (!this.closed && (await this.shared.acquire(signal))) {
      if (!this.closed) {
        this.held = true;
        return true;
      }
      this.shared.release();
    }
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    return false;
  }

  override release(): void {
    this.held = false;
    this.shared.release();
    for (const f of [...this.idlers]) f();
  }

  close(): void {
    this.closed = true;
  }

  /** Resolves when no batch is in flight, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (!this.held) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idlers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.idlers.add(done);
    });
  }
}
