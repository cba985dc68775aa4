import { cliErrors } from '../../errors.js';

/** Fn's CLI caps the body it sends at 10 MiB. */
export const MAX_INVOKE_BODY = 10 * 1024 * 1024;

/** Reads a request body from a stream (stdin), failing once it passes `limit` bytes instead of buffering it all. */
export async function readBody(stream: AsyncIterable<Buffer | string>, limit = MAX_INVOKE_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > limit) {
      throw cliErrors.usage(`the request body (stdin) is larger than ${limit} bytes`, 'send a smaller body; Fn limits invoke bodies to 10 MiB');
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
