import { describe, expect, it, vi } from 'vitest';
import { runCall, type CallDeps, type CallLog, type Handler } from '../src/call.js';
import { resolveSettings } from '../src/settings.js';

function deps(handler: Handler, env: Record<string, string> = {}): CallDeps & { log: CallLog & { errors: unknown[][]; frames: string[] } } {
  const errors: unknown[][] = [];
  const frames: string[] = [];
  return {
    settings: resolveSettings({ FN_LISTENER: 'unix:/tmp/x/lsnr.sock', ...env }),
    handler,
    now: Date.now,
    log: { errors, frames, error: (...args) => void errors.push(args), frame: (line) => void frames.push(line) },
  };
}

const request = (headers: string[] = [], body = '') => ({ rawHeaders: headers, body: Buffer.from(body) });
const json = (body: Buffer) => JSON.parse(body.toString('utf8')) as Record<string, unknown>;

describe('runCall', () => {
  it('answers 200 with the encoded result and the response headers', async () => {
    const response = await runCall(request([], '{"n":2}'), deps((input) => ({ double: (input as { n: number }).n * 2 })));
    expect(response.status).toBe(200);
    expect(json(response.body)).toEqual({ double: 4 });
    expect(response.headers.get('Content-Type')).toEqual(['application/json']);
    expect(response.headers.get('Fn-Fdk-Version')?.[0]).toMatch(/^fnts-fdk\//);
  });

  it('sends application/json when the function removed the content type and returned an object', async () => {
    const response = await runCall(request(), deps((_input, ctx) => {
      ctx.responseContentType = null;
      return [1];
    }));
    expect(response.headers.get('Content-Type')).toEqual(['application/json']);
    expect(response.body.toString()).toBe('[1]');
  });

  it('reports a thrown non-Error as the detail', async () => {
    const d = deps(() => {
      throw 'just a string'; // what a careless function does
    });
    const response = await runCall(request(), d);
    expect(response.status).toBe(502);
    expect(json(response.body)).toEqual({ message: 'Exception in function, consult logs for details', detail: 'just a string' });
    expect(d.log.errors[0]).toEqual([expect.stringContaining('function failed'), 'just a string']);
  });

  it('answers 504 without running the function when the deadline has already passed', async () => {
    const handler = vi.fn(() => 'ran');
    const d = deps(handler);
    const response = await runCall(request(['Fn-Deadline', new Date(Date.now() - 1000).toISOString()]), d);
    expect(response.status).toBe(504);
    expect(handler).not.toHaveBeenCalled();
    expect(d.log.errors[0]?.[0]).toMatch(/arrived after its deadline/);
  });

  it('logs a failure that comes after the 504', async () => {
    const d = deps(async () => {
      await new Promise((resolve) => setTimeout(resolve, 80));
      throw new Error('late failure');
    });
    const response = await runCall(request(['Fn-Deadline', new Date(Date.now() + 20).toISOString()]), d);
    expect(response.status).toBe(504);
    await vi.waitFor(() => expect(d.log.errors.some(([message]) => String(message).includes('failed after its deadline'))).toBe(true));
  });

  it('guards no deadline beyond what setTimeout can hold, instead of timing out at once', async () => {
    const farAway = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString(); // 30 days > 2^31 ms
    const response = await runCall(request(['Fn-Deadline', farAway]), deps(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 'done';
    }));
    expect(response.status).toBe(200);
  });

  it('ignores an unparseable deadline rather than failing the call', async () => {
    const response = await runCall(request(['Fn-Deadline', 'soon']), deps((_i, ctx) => ({ deadline: ctx.deadline })));
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('{"deadline":null}');
  });

  it('frames the log with the configured header, matched case-insensitively', async () => {
    const d = deps(() => 'ok', { FN_LOGFRAME_NAME: 'CALL', FN_LOGFRAME_HDR: 'FN-CALL-ID' });
    await runCall(request(['fn-call-id', 'abc']), d);
    await runCall(request(), d);
    expect(d.log.frames).toEqual(['\nCALL=abc\n']);
  });

  it('treats Fn-Intent case-insensitively when mapping trigger headers', async () => {
    const response = await runCall(request(['Fn-Intent', 'HTTPRequest']), deps((_i, ctx) => {
      ctx.setResponseHeader('X-A', '1');
    }));
    expect(response.headers.get('Fn-Http-H-X-A')).toEqual(['1']);
    expect(response.headers.has('X-A')).toBe(false);
  });
});
