// `fnts create|list|inspect|update|delete stream` and `fnts stream put|tail`, against a real in-process server.
import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../src/client.js';
import { createAppCommand } from '../src/commands/apps/apps.js';
import { createFnCommand } from '../src/commands/fns/fns.js';
import {
  createStreamCommand, deleteStreamCommand, describePositions, inspectStreamCommand, listStreamsCommand, streamPutCommand,
  streamTailCommand, updateStreamCommand, type StreamPutOptions,
} from '../src/commands/streams/streams.js';
import { createTriggerCommand } from '../src/commands/triggers/triggers.js';
import { CliError } from '../src/errors.js';
import { formatDuration, parseDurationFlag } from '../src/pairs.js';
import { buildProgram } from '../src/program.js';
import { serverPerTest, type Captured } from './support/harness.js';

const server = serverPerTest();

/** stdin as the CLI sees it: the given chunks, as they would arrive from a pipe. */
async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function put(cli: Captured, opts: Omit<StreamPutOptions, 'input'>, ...input: (string | Buffer)[]) {
  return streamPutCommand({ ...opts, input: chunks(...input) }, cli.ctx);
}

async function withStream(name = 'orders', partitions = 1): Promise<Captured> {
  const cli = server.cli();
  await createStreamCommand({ name, partitions }, cli.ctx);
  cli.clear();
  return cli;
}

/** The messages of a stream as [partition, offset, key, value] rows, through `stream tail --from-beginning --output json`. */
async function messages(name: string): Promise<[number, number, string | null, string][]> {
  const cli = server.cli();
  await streamTailCommand({ stream: name, fromBeginning: true, output: 'json' }, cli.ctx);
  return cli.stdout().split('\n').filter(Boolean).map((l) => {
    const m = JSON.parse(l) as { partition: number; offset: number; key: string | null; value: string };
    return [m.partition, m.offset, m.key, m.value];
  });
}

/** The values `stream tail` printed so far, one per line (the fifth word of the text form). */
const printedValues = (cli: Captured) => cli.stdout().trim().split('\n').filter(Boolean).map((l) => l.split(' ')[4]);

/**
 * Resolves once a `stream tail` has asked for messages: it has read each partition's end by then, so whatever is
 * put from now on is new to it (a put before that would count as old and never be shown by a tail from the end).
 */
async function tailReading(): Promise<void> {
  await vi.waitFor(() => expect(server.requests.some((r) => /^GET \/v2\/streams\/[^/?]+\/messages\?/.test(r))).toBe(true), {
    timeout: 10_000,
    interval: 10,
  });
}

describe('durations', () => {
  it('reads milliseconds or a number with a unit, and prints the largest whole unit', () => {
    const retention = parseDurationFlag('--retention');
    expect([retention('7d'), retention('12h'), retention('30m'), retention('90s'), retention('1500'), retention('2w')])
      .toEqual([604_800_000, 43_200_000, 1_800_000, 90_000, 1500, 1_209_600_000]);
    expect(() => retention('7 days')).toThrow('--retention "7 days" is not a duration');
    expect(() => retention('-1h')).toThrow(CliError);
    expect([formatDuration(604_800_000), formatDuration(5_400_000), formatDuration(1500), formatDuration(90_000)])
      .toEqual(['7d', '90m', '1500ms', '90s']);
  });
});

describe('streams', () => {
  it('creates a stream with partitions and retention, and says what it made', async () => {
    const cli = server.cli();
    const s = await createStreamCommand({ name: 'orders', partitions: 4, retention: 43_200_000 }, cli.ctx);
    expect(s).toMatchObject({ name: 'orders', partitions: 4, retention_ms: 43_200_000 });
    expect(cli.stdout()).toBe('Successfully created stream: orders (4 partitions, retention 12h)\n');
    cli.clear();
    await createStreamCommand({ name: 'one' }, cli.ctx);
    expect(cli.stdout()).toBe('Successfully created stream: one (1 partition, retention 7d)\n');
  });

  it('reports a name already taken, and the server\'s limits, with the server message', async () => {
    const cli = await withStream();
    await expect(createStreamCommand({ name: 'orders' }, cli.ctx)).rejects.toMatchObject({
      status: 409, message: 'server answered 409: Stream already exists', hint: expect.stringContaining('fnts update stream orders --retention'),
    });
    await expect(createStreamCommand({ name: 'big', partitions: 1000 }, cli.ctx)).rejects.toMatchObject({
      status: 400, message: 'server answered 400: partitions must be between 1 and 256',
    });
  });

  it('lists streams as NAME/PARTITIONS/RETENTION/ID, or JSON, and says when there are none', async () => {
    const cli = server.cli();
    await listStreamsCommand({}, cli.ctx);
    expect(cli.stderr()).toBe('No streams found\n');
    const a = await createStreamCommand({ name: 'audit', retention: 30 * 86_400_000 }, cli.ctx);
    const o = await createStreamCommand({ name: 'orders', partitions: 4 }, cli.ctx);
    cli.clear();
    await listStreamsCommand({}, cli.ctx);
    expect(cli.stdout().trimEnd().split('\n').map((l) => l.split(/\s{2,}/))).toEqual([
      ['NAME', 'PARTITIONS', 'RETENTION', 'ID'],
      ['audit', '1', '30d', a.id],
      ['orders', '4', '7d', o.id],
    ]);
    cli.clear();
    await listStreamsCommand({ output: 'json' }, cli.ctx);
    expect((JSON.parse(cli.stdout()) as { name: string }[]).map((s) => s.name)).toEqual(['audit', 'orders']);
  });

  it("inspects a stream with each partition's start and end offsets, or one field", async () => {
    const cli = await withStream('orders', 2);
    await put(cli, { stream: 'orders' }, 'a\nb\nc\n');
    cli.clear();
    await inspectStreamCommand({ name: 'orders' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toMatchObject({
      name: 'orders', partitions: 2, retention_ms: 604_800_000,
      offsets: [{ partition: 0, start: 0, end: 2 }, { partition: 1, start: 0, end: 1 }],
    });
    cli.clear();
    await inspectStreamCommand({ name: 'orders', field: 'retention_ms' }, cli.ctx);
    expect(cli.stdout()).toBe('604800000\n');
    await expect(inspectStreamCommand({ name: 'ghost' }, cli.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_NOT_FOUND', message: 'stream "ghost" not found', hint: expect.stringContaining('fnts create stream ghost'),
    });
  });

  it('updates the retention, and needs --retention', async () => {
    const cli = await withStream();
    const s = await updateStreamCommand({ name: 'orders', retention: 3_600_000 }, cli.ctx);
    expect(s.retention_ms).toBe(3_600_000);
    expect(cli.stdout()).toBe('stream orders updated: retention 1h\n');
    await expect(updateStreamCommand({ name: 'orders' }, cli.ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE', message: 'nothing to update' });
  });

  it('deletes a stream; one a trigger reads is refused with one line and a hint, a dead-letter stream needs --force', async () => {
    const cli = await withStream();
    await createAppCommand({ name: 'shop' }, cli.ctx);
    await createFnCommand({ app: 'shop', name: 'consume', image: 'fnts-test-no-such-image:0.0.0' }, cli.ctx);
    await createTriggerCommand({ app: 'shop', fn: 'consume', name: 'feed', type: 'stream', source: 'orders' }, cli.ctx);

    const err = await deleteStreamCommand({ name: 'orders' }, cli.ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409, message: 'server answered 409: stream "orders" feeds trigger feed; delete those triggers first' });
    expect((err as CliError).message).not.toContain('\n');
    expect((err as CliError).hint).toContain('fnts delete trigger APP FN NAME');

    const dlq = 'shop.consume.feed.dlq';
    await expect(deleteStreamCommand({ name: dlq }, cli.ctx)).rejects.toMatchObject({
      status: 409, hint: expect.stringContaining('pass --force'),
    });
    cli.clear();
    await deleteStreamCommand({ name: dlq, force: true }, cli.ctx);
    expect(cli.stdout()).toBe(`Stream ${dlq} deleted\n`);
    expect((await new ApiClient(server.url).listStreams()).map((s) => s.name)).toEqual(['orders']);
  });
});

describe('stream put', () => {
  it('puts one message per line, skipping empty lines, across chunk boundaries and CRLF, and says where they went', async () => {
    const cli = await withStream();
    const result = await put(cli, { stream: 'orders' }, 'fir', 'st\nsecond\r\n\n', '\nthird');
    expect(result.offsets).toEqual([{ partition: 0, offset: 0 }, { partition: 0, offset: 1 }, { partition: 0, offset: 2 }]);
    expect(cli.stderr()).toBe('put 3 messages to orders: partition 0 offsets 0..2\n');
    expect(cli.stdout()).toBe('');
    expect(await messages('orders')).toEqual([[0, 0, null, 'first'], [0, 1, null, 'second'], [0, 2, null, 'third']]);
  });

  it('sends messages with the same key to the same partition, in order, with the headers given', async () => {
    const cli = await withStream('orders', 4);
    const { offsets } = await put(cli, { stream: 'orders', key: 'customer-7', header: ['source=cli', 'trace=a=b'] }, 'a\nb\nc\n');
    const partition = offsets[0]?.partition;
    expect(offsets).toEqual([0, 1, 2].map((offset) => ({ partition, offset })));
    expect(cli.stderr()).toBe(`put 3 messages to orders: partition ${partition} offsets 0..2\n`);

    const tail = server.cli();
    await streamTailCommand({ stream: 'orders', fromBeginning: true, output: 'json', partition }, tail.ctx);
    const got = tail.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(got.map((m) => [m.key, m.value, m.headers])).toEqual(['a', 'b', 'c'].map((v) => ['customer-7', v, { source: 'cli', trace: 'a=b' }]));
  });

  it('puts the whole input as one message with --whole, and prints the offsets as JSON with --output json', async () => {
    const cli = await withStream();
    await put(cli, { stream: 'orders', whole: true, output: 'json' }, '{\n  "id": 1\n', '}\n');
    expect(JSON.parse(cli.stdout())).toEqual({ stream: 'orders', offsets: [{ partition: 0, offset: 0 }] });
    expect(cli.stderr()).toBe('put 1 message to orders: partition 0 offset 0\n');
    expect(await messages('orders')).toEqual([[0, 0, null, '{\n  "id": 1\n}\n']]);
  });

  it('keeps bytes exactly, and decodes base64 input with --base64 (per line, or whole and wrapped)', async () => {
    const cli = await withStream();
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x0d]);
    await put(cli, { stream: 'orders', base64: true }, `${binary.toString('base64')}\n${Buffer.from('héllo').toString('base64')}\n`);
    await put(cli, { stream: 'orders', whole: true, base64: true }, 'aGVsbG8g\nd29ybGQ=\n');
    await put(cli, { stream: 'orders' }, Buffer.from([0xc3, 0x28, 0x0a])); // not UTF-8, put as it is
    const tail = server.cli();
    await streamTailCommand({ stream: 'orders', fromBeginning: true, base64: true, output: 'json' }, tail.ctx);
    const values = tail.stdout().trim().split('\n').map((l) => Buffer.from((JSON.parse(l) as { value: string }).value, 'base64'));
    expect(values).toEqual([binary, Buffer.from('héllo'), Buffer.from('hello world'), Buffer.from([0xc3, 0x28])]);
  });

  it('sends at most 1,000 messages per request', async () => {
    const cli = await withStream();
    const spy = vi.spyOn(ApiClient.prototype, 'putMessages');
    try {
      const lines = Array.from({ length: 2500 }, (_, i) => `m${i}\n`).join('');
      const { offsets } = await put(cli, { stream: 'orders' }, lines.slice(0, 7000), lines.slice(7000));
      expect(spy.mock.calls.map((c) => c[2].length)).toEqual([1000, 1000, 500]);
      expect(offsets.map((o) => o.offset)).toEqual([...Array(2500).keys()]);
      expect(cli.stderr()).toBe('put 2500 messages to orders: partition 0 offsets 0..2499\n');
    } finally {
      spy.mockRestore();
    }
  });

  it('stops at a message over 1 MiB or bad base64, naming the line, after putting everything before it', async () => {
    const cli = await withStream();
    const big = `${'x'.repeat(1024 * 1024 + 1)}\n`;
    const err = await put(cli, { stream: 'orders' }, 'ok\n\n', big, 'never\n').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FNTS_ERR_STREAM_INPUT', message: 'line 3 is 1048577 bytes; a message is at most 1048576 bytes (1 MiB)' });
    expect((err as CliError).hint).toBe('split it into smaller messages; put before it: 1 (partition 0 offset 0)');

    await put(cli, { stream: 'orders' }, Array.from({ length: 1001 }, () => 'm\n').join(''));
    expect(await put(cli, { stream: 'orders', base64: true }, 'bm90\n', 'not base64!\n').catch((e: unknown) => e)).toMatchObject({
      code: 'FNTS_ERR_STREAM_INPUT', message: 'line 2 is not base64',
    });
    const tooBig = await put(cli, { stream: 'orders' }, ...Array.from({ length: 1001 }, () => 'm\n'), big).catch((e: unknown) => e);
    // Everything before the bad line is put, so the input can be resumed from there.
    expect((tooBig as CliError).hint).toBe('split it into smaller messages; put before it: 1001 (partition 0 offsets 1003..2003)');
    expect(await put(cli, { stream: 'orders' }, big).catch((e: unknown) => (e as CliError).hint)).toBe('split it into smaller messages; nothing was put');
  });

  it('puts nothing for empty input, and names a missing stream before reading', async () => {
    const cli = await withStream();
    await expect(put(cli, { stream: 'orders' }, '\n\n')).resolves.toEqual({ stream: 'orders', offsets: [] });
    expect(cli.stderr()).toBe('put 0 messages to orders: the input was empty\n');
    await expect(put(cli, { stream: 'ghost' }, 'x\n')).rejects.toMatchObject({ message: 'stream "ghost" not found' });
  });

  it('describes positions as ranges per partition', () => {
    expect(describePositions([
      { partition: 2, offset: 5 }, { partition: 0, offset: 7 }, { partition: 2, offset: 1 }, { partition: 2, offset: 2 },
    ])).toBe('partition 0 offset 7, partition 2 offsets 1..2, 5');
  });
});

describe('stream tail', () => {
  it('prints partition, offset, time, key and value from the beginning of each partition, one line per message', async () => {
    const cli = await withStream('orders', 2);
    await put(cli, { stream: 'orders' }, 'a\nb\nc\n');
    await put(cli, { stream: 'orders', key: 'k', whole: true }, 'two\nlines');
    cli.clear();
    const printed = await streamTailCommand({ stream: 'orders', fromBeginning: true }, cli.ctx);
    const lines = cli.stdout().trimEnd().split('\n').map((l) => l.split(' '));
    expect(printed).toBe(4);
    // Partition by partition, in offset order; unkeyed messages go round robin, the keyed one where its key hashes.
    const keyed = lines.find((l) => l[3] === 'k');
    expect(lines.filter((l) => l !== keyed).map(([p, o, , k, v]) => [p, o, k, v])).toEqual([['0', '0', '-', 'a'], ['0', '1', '-', 'c'], ['1', '0', '-', 'b']]);
    expect(keyed?.[4]).toBe('two\\nlines'); // a newline inside a value is shown escaped
    expect(lines.map((l) => l[0])).toEqual([...lines.map((l) => l[0])].sort());
    for (const l of lines) expect(new Date(l[2] ?? '').getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('reads one partition, stops at --limit, and prints NDJSON with --output json', async () => {
    const cli = await withStream('orders', 2);
    await put(cli, { stream: 'orders' }, Array.from({ length: 10 }, (_, i) => `m${i}\n`).join(''));
    cli.clear();
    expect(await streamTailCommand({ stream: 'orders', fromBeginning: true, partition: 1, limit: 3, output: 'json' }, cli.ctx)).toBe(3);
    const got = cli.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(got.map((m) => [m.partition, m.offset, m.value])).toEqual([[1, 0, 'm1'], [1, 1, 'm3'], [1, 2, 'm5']]);
    expect(got[0]).toMatchObject({ key: null, headers: {}, timestamp: expect.any(Number) });
    await expect(streamTailCommand({ stream: 'orders', partition: 2 }, cli.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE', message: 'stream orders has no partition 2',
    });
  });

  it('without --from-beginning starts at the end: nothing old, and a note saying how to see it', async () => {
    const cli = await withStream();
    await put(cli, { stream: 'orders' }, 'old\n');
    cli.clear();
    expect(await streamTailCommand({ stream: 'orders' }, cli.ctx)).toBe(0);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toContain('No new messages in orders; add --from-beginning');
  });

  it('with --follow prints new messages as they come, and stops cleanly when interrupted', async () => {
    const cli = await withStream('orders', 2);
    const producer = server.cli();
    await put(producer, { stream: 'orders' }, 'before\n');
    const stop = new AbortController();
    const tail = streamTailCommand({ stream: 'orders', follow: true, signal: stop.signal, pollMs: 50 }, cli.ctx);
    await tailReading();
    await put(producer, { stream: 'orders' }, 'x1\nx2\nx3\n');
    await vi.waitFor(() => expect(printedValues(cli).sort()).toEqual(['x1', 'x2', 'x3']), { timeout: 10_000, interval: 20 });
    stop.abort();
    await expect(tail).resolves.toBe(3);
    expect(printedValues(cli).sort()).toEqual(['x1', 'x2', 'x3']);
  });

  it('with --follow and --limit ends by itself after that many', async () => {
    const cli = await withStream();
    const tail = streamTailCommand({ stream: 'orders', follow: true, limit: 2, pollMs: 20, output: 'json' }, cli.ctx);
    await tailReading();
    await put(server.cli(), { stream: 'orders' }, 'a\nb\nc\n');
    await expect(tail).resolves.toBe(2);
  });
});

describe('the stream commands in the program', () => {
  it('reads --retention durations and stdin for put, and stops tail --follow on the interruption signal', async () => {
    const cli = server.cli();
    const stop = new AbortController();
    const prog = buildProgram({
      context: () => cli.ctx,
      readStdin: async () => Buffer.alloc(0),
      openStdin: () => ({ input: chunks('one\ntwo\n'), terminal: false }),
      interruption: () => ({ signal: stop.signal, release: () => undefined }),
      setExitCode: () => undefined,
    });
    await prog.parseAsync(['create', 'stream', 'orders', '--partitions', '2', '--retention', '12h'], { from: 'user' });
    expect(cli.stdout()).toBe('Successfully created stream: orders (2 partitions, retention 12h)\n');
    cli.clear();
    await buildProgram({
      context: () => cli.ctx,
      readStdin: async () => Buffer.alloc(0),
      openStdin: () => ({ input: chunks('one\ntwo\n'), terminal: false }),
      interruption: () => ({ signal: stop.signal, release: () => undefined }),
      setExitCode: () => undefined,
    }).parseAsync(['stream', 'put', 'orders', '--json'], { from: 'user' });
    expect(cli.stderr()).toBe('put 2 messages to orders: partition 0 offset 0, partition 1 offset 0\n');
    expect(JSON.parse(cli.stdout())).toMatchObject({ stream: 'orders', offsets: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] });
    cli.clear();
    const tail = buildProgram({
      context: () => cli.ctx,
      readStdin: async () => Buffer.alloc(0),
      openStdin: () => ({ input: chunks(), terminal: false }),
      interruption: () => ({ signal: stop.signal, release: () => undefined }),
      setExitCode: () => undefined,
    }).parseAsync(['stream', 'tail', 'orders', '--follow', '--from-beginning'], { from: 'user' });
    // Interrupted once it has printed what there is, while it waits for more.
    await vi.waitFor(() => expect(printedValues(cli)).toEqual(['one', 'two']), { timeout: 10_000, interval: 20 });
    stop.abort();
    await tail;
    expect(printedValues(cli)).toEqual(['one', 'two']);
  });
});
