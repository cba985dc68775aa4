import { formatByteLimit, MAX_STREAM_MESSAGE_BYTES } from '@fnts/api/limits';
import type { Command } from 'commander';
import { collect, parseDurationFlag, parseIntFlag } from '../../pairs.js';
import type { ContextFactory } from '../command-context.js';
import { examples, INSPECT_OUTPUT_HELP, OUTPUT_HELP } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';
import type { CommandVerbs } from '../verbs.js';
import {
  createStreamCommand, deleteStreamCommand, inspectStreamCommand, listStreamsCommand, streamPutCommand,
  streamTailCommand, updateStreamCommand,
} from './streams.js';

/** What the stream commands need from the process: stdin for `put`, Ctrl-C for `tail --follow`. */
export interface StreamIo {
  /** The input of `stream put`, and whether it is a terminal. */
  stdin(): { input: AsyncIterable<Buffer | string>; terminal: boolean };
  /** A signal that aborts on Ctrl-C (SIGINT) until `release` is called. */
  interruption(): { signal: AbortSignal; release(): void };
}

/**
 * The stream commands: `fnts create|list|inspect|update|delete stream` and `fnts stream put|tail` (an embedded stream,
 * or a Kafka topic named kafka://…). Actions only map arguments onto the command functions in streams.ts.
 */
export function registerStreamCommands(prog: Command, verbs: CommandVerbs, ctx: ContextFactory, io: StreamIo, full: CommandSelection): void {
  verbs.create?.command('stream <name>').description('create an embedded stream: a partitioned, append-only log on the server')
    .option('-p, --partitions <n>', 'partitions (1-256, default 1); fixed once created: a key always maps to the same one', parseIntFlag('--partitions'))
    .option('--retention <duration>', 'how long messages are kept: milliseconds, or 30m, 12h, 7d (default 7d)', parseDurationFlag('--retention'))
    .addHelpText('after', examples('fnts create stream orders --partitions 4', 'fnts create stream audit --retention 30d'))
    .action(async (name: string, o: { partitions?: number; retention?: number }) =>
      void (await createStreamCommand({ ...o, name }, await ctx())));

  verbs.list?.command('streams').aliases(['stream']).description('list the embedded streams')
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list streams', 'fnts list streams --output json'))
    .action(async (o: { output?: string }) => void (await listStreamsCommand(o, await ctx())));

  verbs.inspect?.command('stream <name> [field]').description("print a stream as JSON (with each partition's start and end offsets), or one field")
    .option('--output <format>', INSPECT_OUTPUT_HELP)
    .addHelpText('after', examples('fnts inspect stream orders', 'fnts inspect stream orders offsets', 'fnts inspect stream orders retention_ms'))
    .action(async (name: string, field: string | undefined, o: { output?: string }) =>
      void (await inspectStreamCommand({ ...o, name, ...(field === undefined ? {} : { field }) }, await ctx())));

  verbs.update?.command('stream <name>').description("change a stream's retention (its partitions cannot change)")
    .option('--retention <duration>', 'how long messages are kept: milliseconds, or 30m, 12h, 7d', parseDurationFlag('--retention'))
    .addHelpText('after', examples('fnts update stream orders --retention 12h', 'fnts update stream orders --retention 86400000'))
    .action(async (name: string, o: { retention?: number }) => void (await updateStreamCommand({ ...o, name }, await ctx())));

  verbs.del?.command('stream <name>').description('delete a stream and its messages (not while a trigger reads it)')
    .option('--force', "also delete a stream that holds a trigger's dead letters (that trigger then blocks until it exists again)")
    .addHelpText('after', examples('fnts delete stream orders', 'fnts delete stream demo.orders.orders.dlq --force'))
    .action(async (name: string, o: { force?: boolean }) => void (await deleteStreamCommand({ name, ...o }, await ctx())));

  const stream = prog.command('stream').description('put messages into an embedded stream or a Kafka topic (kafka://…), or print its messages');
  if (!full('stream')) return;
  stream.addHelpText('after', examples(
      'printf \'%s\\n\' one two | fnts stream put orders',
      'fnts stream tail orders --from-beginning',
      'fnts stream tail kafka://localhost:9092/orders --from-beginning   # a Kafka topic, no fnts server needed',
    ));

  stream.command('put <name>')
    .description('append stdin to a stream (or to a Kafka topic named kafka://host:port[,host:port]/topic): one message per line (empty lines skipped), or all of it as one message with --whole')
    .option('-k, --key <key>', 'the key of every message; messages with the same key go to the same partition, in order')
    .option('-H, --header <KEY=VALUE>', 'a header on every message (repeatable)', collect)
    .option('--whole', `put the whole input as one message (at most ${formatByteLimit(MAX_STREAM_MESSAGE_BYTES)})`)
    .option('--base64', 'the input (each line, or the whole of it) is base64 of the bytes to put; default: the bytes as they are')
    .option('--output <format>', 'json: print {stream, offsets: [{partition, offset}]} on stdout')
    .addHelpText('after', examples(
      'printf \'%s\\n\' \'{"id":"a1"}\' \'{"id":"a2"}\' | fnts stream put orders --key customer-7',
      'fnts stream put orders --whole --header source=upload < order.json',
      'base64 -w0 photo.jpg | fnts stream put images --whole --base64',
      'echo \'{"id":"a3"}\' | fnts stream put kafka://broker1:9092,broker2:9092/orders --key customer-7',
    ))
    .action(async (name: string, o: { key?: string; header?: string[]; whole?: boolean; base64?: boolean; output?: string }) => {
      const { input, terminal } = io.stdin();
      await streamPutCommand({ ...o, stream: name, input, terminal }, await ctx());
    });

  stream.command('tail <name>')
    .description("print a stream's (or a kafka:// topic's) messages (partition offset time key value) from each partition's end, or from the beginning")
    .option('--from-beginning', "start at each partition's oldest kept message instead of its end")
    .option('--partition <p>', 'only this partition', parseIntFlag('--partition'))
    .option('-f, --follow', 'keep printing new messages (checking every 500 ms) until interrupted')
    .option('-n, --limit <n>', 'stop after this many messages', parseIntFlag('--limit'))
    .option('--base64', 'print keys and values as base64 (for binary messages); default: UTF-8 text')
    .option('--output <format>', 'json: one JSON object per message (NDJSON)')
    .addHelpText('after', examples(
      'fnts stream tail orders --from-beginning --limit 10',
      'fnts stream tail orders --follow                 # new messages until Ctrl-C',
      'fnts stream tail orders --partition 2 --from-beginning --output json | jq .value',
      'fnts stream tail kafka://localhost:9092/orders --follow   # reads without a consumer group: commits nothing',
    ))
    .action(async (name: string, o: {
      fromBeginning?: boolean; partition?: number; follow?: boolean; limit?: number; base64?: boolean; output?: string;
    }) => {
      const stop = io.interruption();
      try {
        await streamTailCommand({ ...o, stream: name, signal: stop.signal }, await ctx());
      } finally {
        stop.release();
      }
    });
}
