// Streaming over a real socket: the `stream` input mode (the body is not buffered)
// and stream results (`streamResult`), including keep-alive after an unread body
// and a stream that breaks mid-response.
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { streamResult, type Context } from '../src/index.js';
import { harnessPerTest, sleep } from './support/socket-harness.js';

const start = harnessPerTest();
const MB5 = 5 * 1024 * 1024;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('stream input mode', () => {
  it('hands the function a Readable of a 5 MB body before the body has fully arrived', async () => {
    let chunksSeen = 0;
    const h = await start(
      async (input: Readable) => {
        expect(input).toBeInstanceOf(Readable);
        const hash = createHash('sha256');
        for await (const chunk of input) {
          chunksSeen++;
          hash.update(chunk as Buffer);
        }
        return { sha256: hash.digest('hex') };
      },
      {},
      { inputMode: 'stream' },
    );
    const payload = randomBytes(MB5);
    const res = await h.call({ body: payload });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ sha256: createHash('sha256').update(payload).digest('hex') });
    expect(chunksSeen).toBeGreaterThan(1); // streamed, not handed over as one buffer
  });

  it('sees the first chunk while the caller is still sending the rest', async () => {
    const firstSeen: number[] = [];
    const h = await start(
      async (input: Readable) => {
        for await (const chunk of input) firstSeen.push((chunk as Buffer).length);
        return 'done';
      },
      {},
      { inputMode: 'stream' },
    );
    const started = Date.now();
    let firstAt = 0;
    const waitForFirst = vi.waitFor(() => {
      expect(firstSeen.length).toBeGreaterThan(0);
      firstAt = Date.now() - started;
    }, { interval: 5 });
    const chunks = ['a', 'b', 'c', 'd', 'e'];
    const call = h.call({ chunks }); // 30 ms between chunks
    await waitForFirst;
    expect(firstAt).toBeLessThan(100);
    expect((await call).text).toBe('"done"');
  });

  it('keeps a keep-alive connection usable when the function ignores or half-reads a 5 MB body', async () => {
    const h = await start(
      async (input: Readable, ctx: Context) => {
        if (ctx.getHeader('X-Read') === 'some') {
          for await (const chunk of input) {
            void chunk;
            break; // stops after the first chunk, which destroys the stream
          }
        }
        return ctx.getHeader('X-Read');
      },
      {},
      { inputMode: 'stream' },
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const payload = randomBytes(MB5);
      const results = [];
      for (const read of ['none', 'some', 'none']) {
        results.push(await h.call({ agent, headers: { 'X-Read': read }, body: payload }));
      }
      expect(results.map((res) => res.text)).toEqual(['"none"', '"some"', '"none"']);
      expect(new Set(results.map((res) => res.socket)).size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('streams an empty body as an immediately ended stream', async () => {
    const h = await start(async (input: Readable) => (await readAll(input)).length, {}, { inputMode: 'stream' });
    expect((await h.call({ body: '' })).text).toBe('0');
  });

  it('decodes a multi-byte UTF-8 character split across chunks when the stream is read as text', async () => {
    const h = await start(
      async (input: Readable) => {
        input.setEncoding('utf8'); // Node's decoder keeps partial characters between chunks
        let text = '';
        for await (const chunk of input) text += chunk as string;
        return text;
      },
      {},
      { inputMode: 'stream' },
    );
    const bytes = Buffer.from('añ€😀z', 'utf8');
    const res = await h.call({ chunks: [bytes.subarray(0, 5), bytes.subarray(5, 8), bytes.subarray(8)] });
    expect(JSON.parse(res.text)).toBe('añ€😀z');
  });
});

describe('stream results', () => {
  it('pipes a Readable to the response, chunked, with the content type set', async () => {
    const h = await start((_input: unknown, ctx: Context) => {
      ctx.responseContentType = 'text/plain';
      return streamResult(Readable.from(['one ', Buffer.from('two '), 'three']));
    });
    const res = await h.call({ body: '' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('one two three');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['fn-fdk-version']).toMatch(/^fnts-fdk\//);
  });

  it('streams an async generator and a Readable returned without the wrapper', async () => {
    const h = await start((input: string) => {
      if (input === 'generator') {
        return streamResult((async function* () {
          yield 'a';
          await sleep(10);
          yield new Uint8Array([98]);
        })());
      }
      return Readable.from(['bare']);
    }, {}, { inputMode: 'string' });
    expect((await h.call({ body: 'generator' })).text).toBe('ab');
    expect((await h.call({ body: 'bare' })).text).toBe('bare');
  });

  it('echoes a 5 MB streamed body back as a stream', async () => {
    const h = await start((input: Readable) => streamResult(input.pipe(new PassThrough())), {}, { inputMode: 'stream' });
    const payload = randomBytes(MB5);
    const res = await h.call({ body: payload });
    expect(res.status).toBe(200);
    expect(res.body.equals(payload)).toBe(true);
  });

  it('answers 502 when the stream fails before its first chunk', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const h = await start(() =>
      streamResult(new Readable({ read() { this.destroy(new Error('no data source')); } })),
    );
    const res = await h.call({ body: '' });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text)).toEqual({
      message: 'Function result stream failed, consult logs for details',
      detail: 'Error: no data source',
    });
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('failed before its first chunk'), expect.any(Error));
  });

  it('cuts the response off when the stream fails mid-way, and keeps serving', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const h = await start((input: string) => {
      if (input !== 'break') return 'fine';
      return streamResult((async function* () {
        yield 'partial ';
        await sleep(20);
        throw new Error('disk gone');
      })());
    }, {}, { inputMode: 'string' });
    await expect(h.call({ body: 'break' })).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('response was cut off'), expect.any(Error));
    expect((await h.call({ body: 'ok' })).text).toBe('"fine"');
  });

  it('answers 504 when a stream stalls before its first chunk past the deadline, and destroys it', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const stalled = new Readable({ read() {} });
    const h = await start(() => streamResult(stalled));
    const res = await h.call({ headers: { 'Fn-Deadline': new Date(Date.now() + 150).toISOString() }, body: '' });
    expect(res.status).toBe(504);
    await vi.waitFor(() => expect(stalled.destroyed).toBe(true));
  });

  it('rejects something that is not a stream in the function, as a 502', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const h = await start(() => streamResult('not a stream' as never));
    const res = await h.call({ body: '' });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).detail).toMatch(/streamResult expects a Readable or an async iterable, got string/);
  });
});
