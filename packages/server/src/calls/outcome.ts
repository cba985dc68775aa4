import { isFntsError } from '../errors.js';
import { isoFormatter } from '../iso-time.js';
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
  const result: CallResult = { status: outcome.status, completed_at: isoAt(endedMs), duration_ms: Math.max(0, endedMs - createdMs) };
  if (outcome.error !== undefined) result.error = outcome.error;
  if (outcome.error_code !== undefined) result.error_code = outcome.error_code;
  return result;
}

/** The times of finished calls, formatted once per millisecond (a batch of records mostly shares a few). */
export const isoAt = isoFormatter();
