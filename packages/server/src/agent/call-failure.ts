import { setTimeout as sleep } from 'node:timers/promises';
import { errors, type FntsError, isFntsError } from '../errors.js';
import type { HotContainer } from './hot-container.js';

/** Why an exchange with a container failed, and whether the container may serve again. */
export interface CallFailure {
  error: FntsError;
  /** True only when the request never reached the container, so it is as good as before. */
  keepContainer: boolean;
}

/** undici's codes for a response that breaks HTTP/1.1 or its own framing: the function's fault, not a crash. */
const MALFORMED_RESPONSE = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UND_ERR_INFO',
]);
/** undici refused the request before sending it (a header it does not allow, say): a platform fault. */
const NOT_SENT = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

/**
 * Names the cause of a failed exchange: timeout, caller gone, oversized body, a malformed response, or the
 * container's death with its exit status. Must run before the container is removed: removal kills it with
 * SIGKILL, and its exit would then read as code 137 whatever the cause was.
 */
export async function explainCallFailure(c: HotContainer, signal: { aborted: boolean; reason: unknown }, err: unknown): Promise<CallFailure> {
  if (signal.aborted && isFntsError(signal.reason)) return { error: signal.reason, keepContainer: false };
  if (isFntsError(err)) return { error: err, keepContainer: false };
  const e = err as { code?: string; name?: string; message?: string };
  const message = e.message ?? String(err);
  if (e.code !== undefined && NOT_SENT.has(e.code)) return { error: errors.internal(), keepContainer: true };
  if (e.name === 'HTTPParserError' || e.code?.startsWith('HPE_') || (e.code !== undefined && MALFORMED_RESPONSE.has(e.code))) {
    return { error: errors.invalidResponse(`the function's HTTP response was malformed (${message})`), keepContainer: false };
  }
  // A dying container closes the socket a moment before Docker reports its exit.
  const info = c.exitInfo ?? (await Promise.race([c.exited, sleep(500).then(() => undefined)]));
  if (info?.oomKilled) {
    return { error: errors.receiveFailed('the container ran out of memory and was killed; raise the function\'s memory'), keepContainer: false };
  }
  if (info) return { error: errors.receiveFailed(`the container exited with code ${info.exitCode}`), keepContainer: false };
  return { error: errors.receiveFailed(message), keepContainer: false };
}
