import type { Dispatcher } from 'undici';
import { CALL_METHOD, HEADER, WARMUP_PATH } from '@fnts/api/contract';
import { CallCancel } from './call-cancel.js';
import { requestCall } from './call-request.js';
import { callHeaders, invokeRequestHeaders } from './http-headers.js';

/**
 * Warm-up calls for a container started ahead of calls (a deploy's first one, a fn's minimum). A fresh node process
 * runs its first thousand calls or so in V8's interpreter and baseline code, 3–10× slower than hot (bench:cold); the
 * fnts FDK answers `POST /.fnts-warmup` with its own handler, never the function's, over the whole call path. Sent on
 * the connection real calls will use, with the headers and framing of a real call, so the first real call finds that
 * path compiled.
 */

/** The fnts FDK's answer is a few bytes with their length; anything longer, or streamed, is not its answer. */
const MAX_ANSWER_BYTES = 1024;
/** One warm-up call that takes longer than this ends the warm-up (the FDK answers in well under a millisecond). */
const WARMUP_CALL_TIMEOUT_MS = 2000;
const BODY = Buffer.from('{"warm-up":true}');
/** Made as an invoke's are, so the call path's code sees the same kind of object from either. */
const HEADERS = invokeRequestHeaders({ 'content-type': 'application/json' });
/** Real calls carry a deadline their timeout away; the warm-up's is as far, so the FDK takes the same steps. */
const DEADLINE_AHEAD_MS = 30_000;
const FNTS_FDK = 'fnts-fdk/';
const FDK_VERSION = HEADER.fdkVersion.toLowerCase();

/**
 * One warm-up call on `client`; true when the fnts FDK answered it. Anything else (another FDK refuses the path, a
 * timeout, a broken connection) is false, and the warm-up stops there: it never fails a call.
 */
export async function warmUpCall(client: Dispatcher, n: number, timeoutMs = WARMUP_CALL_TIMEOUT_MS): Promise<boolean> {
  const cancel = new CallCancel();
  const timer = setTimeout(() => cancel.abort(new Error('warm-up call timed out')), timeoutMs);
  try {
    const answer = await requestCall(client, {
      path: WARMUP_PATH,
      method: CALL_METHOD,
      headers: callHeaders(HEADERS, `warm-up-${n}`, Date.now() + DEADLINE_AHEAD_MS),
      body: BODY,
    }, cancel, MAX_ANSWER_BYTES);
    if (answer.body) {
      answer.body.destroy();
      return false;
    }
    const fdk = answer.headers[FDK_VERSION];
    return answer.statusCode === 200 && typeof fdk === 'string' && fdk.startsWith(FNTS_FDK);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
