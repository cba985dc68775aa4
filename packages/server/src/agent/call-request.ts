import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CallCancel } from './call-cancel.js';
import type { HeaderMap } from './http-headers.js';

/**
 * Answers with a declared length up to this size are read whole: one write each way, and no stream per call (every
 * extra write on a socket can wake the other process once more, which dominated small hot calls, bench/invoke.ts).
 */
export const WHOLE_ANSWER_BYTES = 64 * 1024;

/** The function's answer to `POST /call`: the whole body when it is small, else a stream of it. */
export interface CallAnswer {
  statusCode: number;
  headers: HeaderMap;
  /** The whole body, when the function declared a length of at most `maxWhole` bytes. */
  whole: Buffer | undefined;
  /** Otherwise the body as it arrives, with backpressure; destroying it aborts the exchange. */
  body: Readable | undefined;
}

/**
 * One exchange on a container's connection through undici's dispatch API rather than its `request` API: an answer
 * with a declared length of at most `maxWhole` bytes arrives as one Buffer, with no body stream, no stream listeners
 * and no extra ticks per call (those were the largest share of the server's own cost per hot call, bench:profile);
 * any other answer streams. `cancel` (deadline, caller gone) aborts the exchange with its reason, also mid-body.
 */
export function requestCall(client: Dispatcher, opts: Dispatcher.DispatchOptions, cancel: CallCancel, maxWhole: number): Promise<CallAnswer> {
  return new Promise((resolve, reject) => {
    client.dispatch(opts, new CallHandler(resolve, reject, cancel, maxWhole));
  });
}

const asError = (reason: unknown): Error => (reason instanceof Error ? reason : new Error(String(reason)));

class CallHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private answer: CallAnswer | undefined;
  /** Set while a small answer is collected. */
  private chunks: Buffer[] | undefined;
  private size = 0;
  private stream: Readable | undefined;
  private settled = false;

  constructor(
    private readonly resolve: (a: CallAnswer) => void,
    private readonly reject: (err: Error) => void,
    private readonly cancel: CallCancel,
    private readonly maxWhole: number,
  ) {
    cancel.on(this.onCancel);
  }

  private readonly onCancel = (): void => {
    this.controller?.abort(asError(this.cancel.reason));
  };

  private done(): void {
    this.settled = true;
    this.cancel.off(this.onCancel);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancel.aborted) controller.abort(asError(this.cancel.reason));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: the answer is still to come
    // Every field set here, so every answer has one shape (a field added later would change it per call).
    const answer: CallAnswer = { statusCode, headers: headers as HeaderMap, whole: undefined, body: undefined };
    this.answer = answer;
    if (Number(headers['content-length']) <= this.maxWhole) {
      this.chunks = [];
      return;
    }
    this.stream = new Readable({
      read: () => controller.resume(),
      destroy: (err, callback) => {
        if (!this.settled) controller.abort(err ?? new Error('the body was closed before its end'));
        callback(err);
      },
    });
    answer.body = this.stream;
    this.resolve(answer);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    } else if (this.stream && !this.stream.push(chunk)) {
      controller.pause();
    }
  }

  onResponseEnd(): void {
    this.done();
    if (this.chunks) {
      const answer = this.answer as CallAnswer;
      answer.whole = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
      this.resolve(answer);
    } else {
      this.stream?.push(null);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.done();
    if (this.stream) this.stream.destroy(err);
    else this.reject(err);
  }
}
