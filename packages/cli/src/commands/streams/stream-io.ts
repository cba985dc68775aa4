import { formatByteLimit, MAX_STREAM_MESSAGE_BYTES } from '@fnts/api/limits';
import type { MessagePosition, StreamMessage } from '../../client.js';
import { cliErrors } from '../../errors.js';
import type { CommandContext } from '../command-context.js';

/**
 * What `fnts stream put` and `fnts stream tail` share whatever the stream is (an embedded stream on the server, or a
 * Kafka topic): reading stdin into messages, and printing positions and messages.
 */

/**
 * A `kafka://host:port/topic` name rather than an embedded stream's: the server's `isKafkaSource` test, written here
 * so that telling the two apart never loads the Kafka client.
 */
export function isKafkaStreamName(name: string): boolean {
  return name.startsWith('kafka://');
}

/** The server's limit for one message's value (also applied to Kafka records). */
export const MAX_MESSAGE_BYTES = MAX_STREAM_MESSAGE_BYTES;
/** `stream put` sends at most this many messages per request (per produce call to Kafka)... */
export const PUT_BATCH_MESSAGES = 1000;
/** ...and about this many value bytes, well inside the server's body limit (MAX_STREAM_PUT_BODY_BYTES, 64 MiB) once base64-encoded. */
export const PUT_BATCH_BYTES = 8 * 1024 * 1024;
/** The most messages read per request. */
export const READ_PAGE = 1000;
/** How often `stream tail --follow` looks for new messages when there were none. */
export const TAIL_POLL_MS = 500;

/** The input options of `stream put`. */
export interface PutInputOptions {
  /** The whole input is one message, instead of one per line. */
  whole?: boolean;
  /** The input (each line, or the whole body) is base64 text of the bytes to put. */
  base64?: boolean;
  /** The messages: stdin in the CLI. */
  input: AsyncIterable<Buffer | string>;
  /** The input is a terminal: say how to end it. */
  terminal?: boolean;
}

/** Where `stream put` sends the values it reads, batch by batch. */
export interface PutTarget {
  /** Sends one batch of values, in input order (at most PUT_BATCH_MESSAGES, about PUT_BATCH_BYTES). */
  send(values: Buffer[]): Promise<void>;
  /** What was put so far, for the hint of an input error: `nothing was put`, `put before it: 3 (partition 0 offsets 0..2)`. */
  sofar(): string;
}

/** `partition 1 offsets 4..6`, `partition 0 offset 7, partition 2 offsets 1..2, 5`: where a put went, by partition. */
export function describePositions(positions: readonly MessagePosition[]): string {
  const byPartition = new Map<number, number[]>();
  for (const p of positions) byPartition.set(p.partition, [...(byPartition.get(p.partition) ?? []), p.offset]);
  return [...byPartition.entries()].sort(([a], [b]) => a - b).map(([partition, offsets]) => {
    offsets.sort((a, b) => a - b);
    const runs: string[] = [];
    for (let i = 0; i < offsets.length;) {
      let j = i;
      while (j + 1 < offsets.length && offsets[j + 1] === (offsets[j] as number) + 1) j++;
      runs.push(i === j ? String(offsets[i]) : `${offsets[i]}..${offsets[j]}`);
      i = j + 1;
    }
    return `partition ${partition} offset${offsets.length === 1 ? '' : 's'} ${runs.join(', ')}`;
  }).join(', ');
}

/**
 * The input's lines as bytes (without `\n`, and without a `\r` before it), each with its line number. A line longer
 * than `maxLine` ends the input there, flagged, rather than being held whole in memory.
 */
async function* lines(input: AsyncIterable<Buffer | string>, maxLine: number): AsyncGenerator<{ line: number; bytes: Buffer; tooLong?: true }> {
  let pending = Buffer.alloc(0);
  let line = 0;
  const cut = (bytes: Buffer) => (bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes);
  for await (const chunk of input) {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    let nl: number;
    while ((nl = pending.indexOf(0x0a)) >= 0) {
      yield { line: ++line, bytes: cut(pending.subarray(0, nl)) };
      pending = pending.subarray(nl + 1);
    }
    // A line this long cannot be a message; stop reading instead of holding all of it.
    if (pending.length > maxLine) {
      yield { line: line + 1, bytes: pending, tooLong: true };
      return;
    }
  }
  if (pending.length > 0) yield { line: ++line, bytes: cut(pending) };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads the messages of `stream put` from the input (one per line, empty lines skipped, or the whole input with
 * --whole; base64-decoded with --base64) and sends them to `target` in batches. A bad message (over 1 MiB, bad
 * base64) stops the put there: everything before it is sent first, so the input can be resumed from its line.
 */
export async function readPutInput(opts: PutInputOptions, ctx: CommandContext, target: PutTarget): Promise<void> {
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const values = batch;
    batch = [];
    batchBytes = 0;
    await target.send(values);
  };
  const fail = async (problem: string, fix: string): Promise<never> => {
    await flush();
    throw cliErrors.streamInput(problem, `${fix}; ${target.sofar()}`);
  };
  const what = (line: number) => (opts.whole ? 'the input' : `line ${line}`);
  const tooLarge = (line: number, size: string) =>
    fail(`${what(line)} is ${size} bytes; a message is at most ${MAX_MESSAGE_BYTES} bytes (${formatByteLimit(MAX_MESSAGE_BYTES)})`, 'split it into smaller messages');
  const decode = async (text: Buffer, line: number): Promise<Buffer> => {
    if (!opts.base64) return text;
    const compact = text.toString('latin1').replace(/\s+/g, '');
    if (!BASE64.test(compact) || compact.length % 4 === 1) {
      return fail(`${what(line)} is not base64`, 'put base64 text (without --base64 the input is put as it is)');
    }
    return Buffer.from(compact, 'base64');
  };
  const add = async (value: Buffer, line: number) => {
    if (value.length > MAX_MESSAGE_BYTES) await tooLarge(line, String(value.length));
    if (batch.length >= PUT_BATCH_MESSAGES || (batch.length > 0 && batchBytes + value.length > PUT_BATCH_BYTES)) await flush();
    batch.push(value);
    batchBytes += value.length;
  };

  if (opts.terminal) ctx.output.info(`Reading ${opts.whole ? 'one message' : 'one message per line'} from the terminal; end with Ctrl-D\n`);
  const maxInput = opts.base64 ? 2 * MAX_MESSAGE_BYTES : MAX_MESSAGE_BYTES + 1;
  if (opts.whole) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of opts.input) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      chunks.push(buf);
      if (size > maxInput) await tooLarge(1, `more than ${maxInput}`);
    }
    const value = await decode(Buffer.concat(chunks), 1);
    if (value.length > 0) await add(value, 1);
  } else {
    for await (const { line, bytes, tooLong } of lines(opts.input, maxInput)) {
      if (tooLong) await tooLarge(line, `more than ${maxInput}`);
      const value = await decode(bytes, line);
      if (value.length > 0) await add(value, line); // empty lines are skipped
    }
  }
  await flush();
}

/** Text form: one line per message, `\n` and `\r` inside a value shown escaped so it stays one line. */
const oneLine = (s: string) => s.replace(/\r/g, '\\r').replace(/\n/g, '\\n');

/** `partition offset time key value` (`-` for no key), one line; or the message as one line of JSON (NDJSON). */
export function formatMessage(m: StreamMessage, json: boolean): string {
  if (json) return `${JSON.stringify(m)}\n`;
  return `${m.partition} ${m.offset} ${new Date(m.timestamp).toISOString()} ${m.key === null ? '-' : oneLine(m.key)} ${oneLine(m.value)}\n`;
}

/** The note `stream tail` prints when it printed nothing (text output, without --follow). */
export function noMessagesNote(name: string, fromBeginning: boolean | undefined): string {
  return fromBeginning
    ? `No messages in ${name}\n`
    : `No new messages in ${name}; add --from-beginning to read what is there, or --follow to wait for new ones\n`;
}

/** `fnts stream put NAME`: the stream (an embedded stream, or `kafka://…/topic`) and the input options. */
export interface StreamPutOptions extends PutInputOptions {
  stream: string;
  /** The key of every message: messages with the same key go to the same partition, in order. */
  key?: string;
  /** `KEY=VALUE` headers for every message. */
  header?: string[];
  /** `json` prints `{stream, offsets: [{partition, offset}]}` on stdout. */
  output?: string;
}

export interface StreamPutResult {
  stream: string;
  offsets: MessagePosition[];
}

export interface StreamTailOptions {
  stream: string;
  /** Start at each partition's oldest kept message instead of its end. */
  fromBeginning?: boolean;
  /** Only this partition. */
  partition?: number;
  /** Keep polling for new messages until `signal` aborts (or `limit` is reached). */
  follow?: boolean;
  /** Stop after this many messages. */
  limit?: number;
  /** Print keys and values as base64 instead of UTF-8 text. */
  base64?: boolean;
  /** `json`: one JSON object per message (NDJSON). */
  output?: string;
  /** Ends `--follow` (Ctrl-C in the CLI); the command then returns normally. */
  signal?: AbortSignal;
  /** How long `--follow` waits between reads that found nothing (default 500 ms). */
  pollMs?: number;
}
