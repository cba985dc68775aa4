/**
 * One call's cancellation (its deadline, its caller gone). Not an AbortSignal: on node 20 the first 'abort' listener
 * of a fresh AbortSignal took 16–20 µs here, the dearest single step of a hot call in bench:profile. Not an
 * EventEmitter either: a call has one or two listeners, and an emitter's set-up per call showed in the profile too.
 */
export class CallCancel {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] = [];

  /** Calls `listener` once when the call is cancelled (never, once it has been). */
  on(listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  off(listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /** Aborts once; later calls keep the first reason. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}

/** What says a call is cancelled: a caller's AbortSignal, or a CallCancel. */
export type CancelSignal = AbortSignal | CallCancel;

/** Calls `listener` once when `signal` aborts. */
export function onCancel(signal: CancelSignal, listener: () => void): void {
  if (signal instanceof CallCancel) signal.on(listener);
  else signal.addEventListener('abort', listener, { once: true });
}

/** Stops listening for `signal`'s abort. */
export function offCancel(signal: CancelSignal, listener: () => void): void {
  if (signal instanceof CallCancel) signal.off(listener);
  else signal.removeEventListener('abort', listener);
}
