import { DEFAULT_MAX_REQUEST_BYTES, formatByteLimit, MAX_REQUEST_BYTES_CEILING } from '@fnts/api/limits';
import { cliErrors } from '../../errors.js';

/**
 * The most a server can be set to take (FNTS_MAX_REQUEST_BYTES): a body past it can never be sent. Below it, the
 * server itself answers 413 with its own limit, which is 6 MiB unless its operator changed it.
 */
export const MAX_INVOKE_BODY = MAX_REQUEST_BYTES_CEILING;

/** Reads a request body from a stream (stdin), failing once it passes `limit` bytes instead of buffering it all. */
export async function readBody(stream: AsyncIterable<Buffer | string>, limit = MAX_INVOKE_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > limit) {
      throw cliErrors.usage(`the request body (stdin) is larger than ${limit} bytes`, `send a smaller body; no server takes more than ${formatByteLimit(MAX_INVOKE_BODY)}, and by default a server takes ${formatByteLimit(DEFAULT_MAX_REQUEST_BYTES)}`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
