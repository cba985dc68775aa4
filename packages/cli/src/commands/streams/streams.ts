import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, type MessagePosition, type OutgoingMessage, type Stream } from '../../client.js';
import { ApiError, cliErrors } from '../../errors.js';
import { formatDuration, parseConfigPairs } from '../../pairs.js';
import type { Column } from '../../table.js';
import type { CommandContext } from '../command-context.js';
import { withHints } from '../lookup.js';
import { outputFormat, printInspect, printList, type ReadOptions } from '../print.js';
import {
  describePositions, formatMessage, isKafkaStreamName, noMessagesNote, READ_PAGE, readPutInput, TAIL_POLL_MS,
  type StreamPutOptions, type StreamPutResult, type StreamTailOptions,
} from './stream-io.js';

/**
 * `fnts create|list|inspect|update|delete stream` and `fnts stream put|tail`: the server's embedded streams
 * (`/v2/streams`, an fnts extension), partitioned append-only logs that stream triggers read.
 */

export {
  describePositions, MAX_MESSAGE_BYTES, PUT_BATCH_MESSAGES, TAIL_POLL_MS,
  type StreamPutOptions, type StreamPutResult, type StreamTailOptions,
} from './stream-io.js';

/** The Kafka commands, loaded (with the Kafka client) only for a `kafka://` name. */
const kafkaStreams = () => import('./kafka-streams.js');

const STREAM_COLUMNS: readonly Column<Stream>[] = [
  { heading: 'NAME', cell: (s) => s.name },
  { heading: 'PARTITIONS', cell: (s) => String(s.partitions) },
  { heading: 'RETENTION', cell: (s) => formatDuration(s.retention_ms) },
  { heading: 'ID', cell: (s) => s.id },
];

/** A stream by name (or id), with its partitions' offsets; a missing one is `stream "x" not found` with a hint. */
export async function requireStream(client: ApiClient, name: string): Promise<Stream> {
  try {
    return await client.getStream(name);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && !err.hint) {
      throw cliErrors.notFound(`stream "${name}"`, `see the streams with \`fnts list streams\`, or create it with \`fnts create stream ${name}\``);
    }
    throw err;
  }
}

export interface CreateStreamOptions {
  name: string;
  /** Default 1 (the server's); at most 256. Fixed once created: keys map to partitions by hash. */
  partitions?: number;
  /** Milliseconds messages are kept; default 7 days (the server's). */
  retention?: number;
}

export async function createStreamCommand(opts: CreateStreamOptions, ctx: CommandContext): Promise<Stream> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const stream = await withHints(client.createStream({
    name: opts.name,
    ...(opts.partitions !== undefined ? { partitions: opts.partitions } : {}),
    ...(opts.retention !== undefined ? { retention_ms: opts.retention } : {}),
  }), { 409: `change its retention with \`fnts update stream ${opts.name} --retention 7d\`, or pick another name` });
  const partitions = `${stream.partitions} partition${stream.partitions === 1 ? '' : 's'}`;
  ctx.output.out(`Successfully created stream: ${stream.name} (${partitions}, retention ${formatDuration(stream.retention_ms)})\n`);
  return stream;
}

export async function listStreamsCommand(opts: ReadOptions, ctx: CommandContext): Promise<Stream[]> {
  const streams = await new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey).listStreams();
  printList(ctx, opts, streams, STREAM_COLUMNS, 'No streams found');
  return streams;
}

/** Prints the stream as JSON, with `offsets`: each partition's first kept offset (`start`) and next offset (`end`). */
export async function inspectStreamCommand(opts: ReadOptions & { name: string; field?: string }, ctx: CommandContext): Promise<Stream> {
  const stream = await requireStream(new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey), opts.name);
  printInspect(ctx, opts, stream, opts.field, `stream "${stream.name}"`);
  return stream;
}

export async function updateStreamCommand(opts: { name: string; retention?: number }, ctx: CommandContext): Promise<Stream> {
  if (opts.retention === undefined) {
    throw cliErrors.usage('nothing to update',
      `pass --retention; for example \`fnts update stream ${opts.name} --retention 12h\` (the number of partitions cannot change)`);
  }
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const stream = await requireStream(client, opts.name);
  const updated = await client.updateStream(stream.id, { retention_ms: opts.retention });
  ctx.output.out(`stream ${stream.name} updated: retention ${formatDuration(updated.retention_ms)}\n`);
  return updated;
}

export async function deleteStreamCommand(opts: { name: string; force?: boolean }, ctx: CommandContext): Promise<void> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const stream = await requireStream(client, opts.name);
  await withHints(client.deleteStream(stream.id, opts.force ?? false), {
    409: (err) => (/dead letters/.test(err.apiMessage)
      ? `pass --force to delete it anyway: those triggers then stop (BLOCKED, nothing dropped) until \`fnts create stream ${stream.name}\``
      : 'delete those triggers first (`fnts delete trigger APP FN NAME`; `fnts list triggers APP` shows them), then the stream'),
  });
  ctx.output.out(`Stream ${stream.name} deleted\n`);
}

// stream put



/**
 * `fnts stream put NAME`: appends stdin to the stream, one message per line (empty lines skipped) or the whole input
 * as one message, in requests of at most 1,000 messages; prints where they went on stderr. A `kafka://` name
 * produces to that Kafka topic instead (kafka-streams.ts).
 */
export async function streamPutCommand(opts: StreamPutOptions, ctx: CommandContext): Promise<StreamPutResult> {
  if (isKafkaStreamName(opts.stream)) return (await kafkaStreams()).kafkaStreamPutCommand(opts, ctx);
  const json = outputFormat(opts.output) === 'json';
  const headers = parseConfigPairs(opts.header, '--header');
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const stream = await requireStream(client, opts.stream);
  // Values (and the key) go as base64 so bytes arrive exactly as read, whatever the input's encoding.
  const key = opts.key === undefined ? {} : { key: Buffer.from(opts.key, 'utf8').toString('base64') };
  const extra = Object.keys(headers).length > 0 ? { headers } : {};
  const put: MessagePosition[] = [];
  await readPutInput(opts, ctx, {
    send: async (values) => {
      const batch: OutgoingMessage[] = values.map((v) => ({ ...key, value: v.toString('base64'), ...extra }));
      put.push(...(await client.putMessages(stream.id, 'base64', batch)));
    },
    sofar: () => (put.length === 0 ? 'nothing was put' : `put before it: ${put.length} (${describePositions(put)})`),
  });

  if (put.length === 0) ctx.output.info(`put 0 messages to ${stream.name}: the input was empty\n`);
  else ctx.output.info(`put ${put.length} message${put.length === 1 ? '' : 's'} to ${stream.name}: ${describePositions(put)}\n`);
  const result = { stream: stream.name, offsets: put };
  if (json) ctx.output.out(`${JSON.stringify(result)}\n`);
  return result;
}

// stream tail


/**
 * `fnts stream tail NAME`: prints the messages of each partition (partition by partition), from its end (only new
 * messages, so useful with --follow) or with --from-beginning from its oldest kept one. Without --follow it stops at
 * the end each partition had when it started; with it, it polls every 500 ms until the signal aborts. Returns how
 * many messages it printed. A `kafka://` name reads that Kafka topic instead (kafka-streams.ts).
 */
export async function streamTailCommand(opts: StreamTailOptions, ctx: CommandContext): Promise<number> {
  if (isKafkaStreamName(opts.stream)) return (await kafkaStreams()).kafkaStreamTailCommand(opts, ctx);
  const json = outputFormat(opts.output) === 'json';
  if (opts.limit !== undefined && opts.limit < 1) throw cliErrors.usage('--limit must be at least 1', 'for example --limit 10');
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const stream = await requireStream(client, opts.stream);
  if (opts.partition !== undefined && (opts.partition < 0 || opts.partition >= stream.partitions)) {
    throw cliErrors.usage(`stream ${stream.name} has no partition ${opts.partition}`,
      `its partitions are 0 to ${stream.partitions - 1}; leave out --partition to read them all`);
  }
  const partitions = opts.partition !== undefined ? [opts.partition] : [...Array(stream.partitions).keys()];
  const bounds = new Map((stream.offsets ?? []).map((b) => [b.partition, b]));
  const next = new Map(partitions.map((p) => [p, opts.fromBeginning ? bounds.get(p)?.start ?? 0 : bounds.get(p)?.end ?? 0]));
  // Without --follow: what is there now, up to each partition's end when the command started.
  const stopAt = new Map(partitions.map((p) => [p, opts.follow ? Infinity : bounds.get(p)?.end ?? 0]));
  const encoding = opts.base64 ? 'base64' : 'utf8';
  const signal = opts.signal;
  let printed = 0;
  const full = () => opts.limit !== undefined && printed >= opts.limit;

  try {
    for (;;) {
      let found = 0;
      for (const p of partitions) {
        for (;;) {
          const from = next.get(p) ?? 0;
          const stop = stopAt.get(p) ?? 0;
          if (full() || from >= stop || signal?.aborted) break;
          const want = Math.min(READ_PAGE, opts.limit === undefined ? READ_PAGE : opts.limit - printed);
          const page = await client.readMessages(stream.id, { partition: p, offset: from, limit: want, encoding }, signal);
          for (const m of page.messages) {
            if (m.offset >= stop || full()) break;
            ctx.output.out(formatMessage(m, json));
            printed++;
            found++;
          }
          next.set(p, page.next_offset);
          if (page.messages.length === 0 || page.next_offset >= page.end_offset) break;
        }
      }
      if (!opts.follow || full() || signal?.aborted) break;
      if (found === 0) await sleep(opts.pollMs ?? TAIL_POLL_MS, undefined, signal ? { signal } : {});
    }
  } catch (err) {
    if (!signal?.aborted) throw err; // Ctrl-C during a read or a wait: stop quietly
  }
  if (printed === 0 && !opts.follow && !json) {
    ctx.output.info(noMessagesNote(stream.name, opts.fromBeginning));
  }
  return printed;
}
