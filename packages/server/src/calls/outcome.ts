import { isFntsError } from '../errors.js';
import type { CallResult } from '../store/models.js';

/** How a failed call is recorded: Fn's `timeout` and `cancelled`, else `error`, with the message and code. */
export function failureOf(err: unknown): Pick<CallResult, 'status' | 'error' | 'error_code'> {
  if (isFntsError(err)) {
    const status = err.code === 'FNTS_ERR_CALL_TIMEOUT' ? 'timeout' : err.code === 'FNTS_ERR_CALL_CLIENT_GONE' ? 'cancelled' : 'error';
    // The function's own words go into the record too: `fnts list calls` shows why a call failed.
    return { status, error: err.detail === undefined ? err.message : `${err.message}: ${err.detail}`, error_code: err.code };
  }
  return { status: 'error', error: err instanceof Error ? err.message : 'the call failed' };
}

/** A finished call's result fields from its start and end times (epoch ms). */
export function resultAt(createdMs: number, endedMs: number, outcome: Pick<CallResult, 'status' | 'error' | 'error_code'>): CallResult {
  return { ...outcome, completed_at: new Date(endedMs).toISOString(), duration_ms: Math.max(0, endedMs - createdMs) };
}
