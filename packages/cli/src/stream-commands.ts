import type { Command } from 'commander';
import type { CommandContext } from './commands/context.js';
import {
  pauseTriggerCommand, redriveTriggerCommand, resumeTriggerCommand, seekTriggerCommand, triggerStatusCommand,
} from './commands/stream-triggers.js';
import {
  createStreamCommand, deleteStreamCommand, inspectStreamCommand, listStreamsCommand, streamPutCommand, streamTailCommand,
  updateStreamCommand,
} from './commands/streams.js';
import { collect, parseDurationFlag, parseIntFlag } from './pairs.js';
import { examples, type CommandGroups } from './resource-commands.js';

/** What the stream commands need from the process: stdin for `put`, Ctrl-C for `tail --follow`, the exit code. */
export interface StreamIo {
  /** The input of `stream put`, and whether it is a terminal. */
  stdin(): { input: AsyncIterable<Buffer | string>; terminal: boolean };
  /** A signal that aborts on Ctrl-C (SIGINT) until `release` is called. */
  interruption(): { signal: AbortSignal; release(): void };
  setExitCode(code: number): void;
}

const OUTPUT_HELP = 'json: machine-readable JSON (default: a table)';

/**
 * The stream commands: `fnts create|list|inspect|update|delete stream`, `fnts stream put|tail`, and the control of
 * stream triggers, `fnts trigger status|pause|resume|seek|redrive`. Actions only map arguments onto the command
 * functions in src/commands/.
 */
export function registerStreamCommands(prog: Command, groups: CommandGroups, ctx: () => CommandContext, io: StreamIo): void {
  groups.create.command('stream <name>').description('create an embedded stream: a partitioned, append-only log on the server')
    .option('-p, --partitions <n>', 'partitions (1-256, default 1); fixed once created: a key always maps to the same one', parseIntFlag('--partitions'))
    .option('--retention <duration>', 'how long messages are kept: milliseconds, or 30m, 12h, 7d (default 7d)', parseDurationFlag('--retention'))
    .addHelpText('after', examples('fnts create stream orders --partitions 4', 'fnts create stream audit --retention 30d'))
    .action(async (name: string, o: { partitions?: number; retention?: number }) =>
      void (await createStreamCommand({ ...o, name }, ctx())));

  groups.list.command('streams').aliases(['stream']).description('list the embedded streams')
    .option('--output <format>', OUTPUT_HELP)
    .addHelpText('after', examples('fnts list streams', 'fnts list streams --output json'))
    .action(async (o: { output?: string }) => void (await listStreamsCommand(o, ctx())));

  groups.inspect.command('stream <name> [field]').description("print a stream as JSON (with each partition's start and end offsets), or one field")
    .option('--output <format>', 'json: print a string field as JSON too')
    .addHelpText('after', examples('fnts inspect stream orders', 'fnts inspect stream orders offsets', 'fnts inspect stream orders retention_ms'))
    .action(async (name: string, field: string | undefined, o: { output?: string }) =>
      void (await inspectStreamCommand({ ...o, name, ...(field === undefined ? {} : { field }) }, ctx())));

  groups.update.command('stream <name>').description("change a stream's retention (its partitions cannot change)")
    .option('--retention <duration>', 'how long messages are kept: milliseconds, or 30m, 12h, 7d', parseDurationFlag('--retention'))
    .addHelpText('after', examples('fnts update stream orders --retention 12h', 'fnts update stream orders --retention 86400000'))
    .action(async (name: string, o: { retention?: number }) => void (await updateStreamCommand({ ...o, name }, ctx())));

  groups.del.command('stream <name>').description('delete a stream and its messages (not while a trigger reads it)')
    .option('--force', "also delete a stream that holds a trigger's dead letters (that trigger then blocks until it exists again)")
    .addHelpText('after', examples('fnts delete stream orders', 'fnts delete stream demo.orders.orders.dlq --force'))
    .action(async (name: string, o: { force?: boolean }) => void (await deleteStreamCommand({ name, ...o }, ctx())));

  const stream = prog.command('stream').description('put messages into an embedded stream or a Kafka topic (kafka://…), or print its messages')
    .addHelpText('after', examples(
      'printf \'%s\\n\' one two | fnts stream put orders',
      'fnts stream tail orders --from-beginning',
      'fnts stream tail kafka://localhost:9092/orders --from-beginning   # a Kafka topic, no fnts server needed',
    ));

  stream.command('put <name>')
    .description('append stdin to a stream (or to a Kafka topic named kafka://host:port[,host:port]/topic): one message per line (empty lines skipped), or all of it as one message with --whole')
    .option('-k, --key <key>', 'the key of every message; messages with the same key go to the same partition, in order')
    .option('-H, --header <KEY=VALUE>', 'a header on every message (repeatable)', collect)
    .option('--whole', 'put the whole input as one message (at most 1 MiB)')
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
      await streamPutCommand({ ...o, stream: name, input, terminal }, ctx());
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
        await streamTailCommand({ ...o, stream: name, signal: stop.signal }, ctx());
      } finally {
        stop.release();
      }
    });

  const trigger = prog.command('trigger').aliases(['triggers']).description('control a stream trigger: status, pause, resume, seek, redrive')
    .addHelpText('after', examples('fnts trigger status demo orders orders', 'fnts trigger pause demo orders orders'));
  const ref = (app: string, fn: string, name: string) => ({ app, fn, name });

  trigger.command('status <app> <fn> <name>')
    .description('per partition: committed offset, end offset, lag in records and seconds, state and last error')
    .option('--output <format>', "json: the server's status as it is (in-flight range, last success, dead-letter counts too)")
    .addHelpText('after', examples('fnts trigger status demo orders orders', 'fnts trigger status demo orders orders --output json'))
    .action(async (app: string, fn: string, name: string, o: { output?: string }) =>
      void (await triggerStatusCommand({ ...ref(app, fn, name), ...o }, ctx())));

  trigger.command('pause <app> <fn> <name>').description('stop delivering batches (the batch in flight is fenced and delivered again later)')
    .addHelpText('after', examples('fnts trigger pause demo orders orders'))
    .action(async (app: string, fn: string, name: string) => void (await pauseTriggerCommand(ref(app, fn, name), ctx())));

  trigger.command('resume <app> <fn> <name>').description('deliver again from the committed offsets')
    .addHelpText('after', examples('fnts trigger resume demo orders orders'))
    .action(async (app: string, fn: string, name: string) => void (await resumeTriggerCommand(ref(app, fn, name), ctx())));

  trigger.command('seek <app> <fn> <name>')
    .description("move a paused trigger's read position, for every partition or one")
    .option('--to <position>', 'earliest, latest, an ISO 8601 time (2026-01-31T12:00:00Z) or milliseconds since 1970')
    .option('--offset <PARTITION:OFFSET>', 'start this partition at this offset (repeatable)', collect)
    .option('--partition <p>', 'with --to: move only this partition', parseIntFlag('--partition'))
    .addHelpText('after', examples(
      'fnts trigger pause demo orders orders && fnts trigger seek demo orders orders --to earliest',
      'fnts trigger seek demo orders orders --to 2026-01-31T12:00:00Z --partition 2',
      'fnts trigger seek demo orders orders --offset 0:120 --offset 1:98 && fnts trigger resume demo orders orders',
    ))
    .action(async (app: string, fn: string, name: string, o: { to?: string; offset?: string[]; partition?: number }) =>
      void (await seekTriggerCommand({ ...ref(app, fn, name), ...o }, ctx())));

  trigger.command('redrive <app> <fn> <name>')
    .description("send the trigger's dead letters back to its function, in order, until one fails again")
    .option('--output <format>', 'json: print {redriven, remaining, error?}')
    .addHelpText('after', examples('fnts trigger redrive demo orders orders'))
    .action(async (app: string, fn: string, name: string, o: { output?: string }) => {
      const result = await redriveTriggerCommand({ ...ref(app, fn, name), ...o }, ctx());
      if (result.error) io.setExitCode(1);
    });
}
