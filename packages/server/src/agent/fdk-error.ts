import type { Readable } from 'node:stream';

/** The most of a function's own error message that reaches the caller and the call record. */
export const MAX_ERROR_DETAIL_BYTES = 4096;
/** The most of an FDK's error body that is read to find it; the rest is drained unread. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
/** Past this many bytes of an error body the exchange is cut: a 502 is no place for a flood. */
const MAX_DRAINED_BYTES = 128 * 1024;

/** The FDK's generic words (fdk-node's too), which say nothing the status does not. */
const GENERIC_MESSAGES = new Set(['Exception in function, consult logs for details', 'function failed']);

// C0 controls other than tab and newline, and DEL: a function's text must not drive the caller's terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/**
 * The function's own error message from an FDK's 502/504 body: `detail` as fnts's FDK and fdk-node send it
 * (`error.toString()`), else a `message` other than the generic one, else a plain-text body. Bounded to
 * MAX_ERROR_DETAIL_BYTES, control characters replaced; undefined when the body says nothing more.
 */
export function errorDetailOf(body: Buffer): string | undefined {
  const text = body.toString('utf8').trim();
  if (text === '') return undefined;
  let said: string | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object') {
      const { detail, message } = parsed as { detail?: unknown; message?: unknown };
      if (typeof detail === 'string' && detail.trim() !== '') said = detail;
      else if (typeof message === 'string' && !GENERIC_MESSAGES.has(message.trim())) said = message;
    }
  } catch {
    // Not JSON: another FDK's plain text, unless it is a cut-off JSON body (then there is nothing sure to say).
    if (!text.startsWith('{')) said = text;
  }
  if (said === undefined) return undefined;
  return bounded(said.replace(CONTROL, '?').trim(), MAX_ERROR_DETAIL_BYTES);
}

/** `text` cut to at most `max` UTF-8 bytes at a character boundary, marked with an ellipsis when cut. */
function bounded(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max - 3; // room for the ellipsis
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}…`;
}

/**
 * Reads the start of an FDK's error body and drains the rest, so the keep-alive connection stays usable.
 * Resolves `{ head, complete }`; `complete` is false when the body was cut (too long, or it failed), and then
 * the container should not serve again.
 */
export function readErrorBody(body: Readable | Buffer): Promise<{ head: Buffer; complete: boolean }> {
  if (Buffer.isBuffer(body)) return Promise.resolve({ head: body.subarray(0, MAX_ERROR_BODY_BYTES), complete: true });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    const done = (complete: boolean) => {
      body.off('data', onData);
      resolve({ head: Buffer.concat(chunks, kept), complete });
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (kept < MAX_ERROR_BODY_BYTES) {
        const part = chunk.subarray(0, MAX_ERROR_BODY_BYTES - kept);
        chunks.push(Buffer.from(part));
        kept += part.length;
      }
      if (seen > MAX_DRAINED_BYTES) {
        done(false);
        body.destroy();
      }
    };
    body.on('data', onData);
    body.once('end', () => done(true));
    body.once('error', () => done(false));
    body.once('close', () => done(seen <= MAX_DRAINED_BYTES && body.readableEnded));
  });
}
