// Stream triggers from the CLI, against a real in-process server: `fnts create trigger --type stream`, the deploy step
// for func.yaml stream triggers, and `fnts trigger status|pause|resume|seek|redrive`. The function's image does not
// exist: the trigger runs and is throttled (the container cannot start, which spends no attempts), which is enough
// to watch its status, pause it, seek it and redrive its dead letters.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiClient, type TriggerStatus } from '../src/client.js';
import { createAppCommand } from '../src/commands/apps/apps.js';
import { createFnCommand } from '../src/commands/fns/fns.js';
import {
  pauseTriggerCommand, redriveTriggerCommand, resumeTriggerCommand, seekPosition, seekTriggerCommand, triggerStatusCommand,
} from '../src/commands/triggers/trigger-control.js';
import { createStreamCommand, streamPutCommand } from '../src/commands/streams/streams.js';
import { changedOptions, createTriggerCommand, deployTriggers, updateTriggerCommand } from '../src/commands/triggers/triggers.js';
import { buildProgram } from '../src/program.js';
import { serverPerTest, type Captured } from './support/harness.js';

const server = serverPerTest();
const NO_IMAGE = `fnts-test-no-such-image-${randomBytes(4).toString('hex')}:0.0.0`;
const ref = { app: 'shop', fn: 'orders', name: 'consume' };

async function* lines(...values: string[]): AsyncGenerator<Buffer> {
  yield Buffer.from(values.map((v) => `${v}\n`).join(''));
}

/** App `shop`, function `orders` (an image that does not exist), stream `orders` with 2 partitions holding 4 messages. */
async function setup(): Promise<Captured> {
  const cli = server.cli();
  await createAppCommand({ name: 'shop' }, cli.ctx);
  await createFnCommand({ app: 'shop', name: 'orders', image: NO_IMAGE }, cli.ctx);
  await createStreamCommand({ name: 'orders', partitions: 2 }, cli.ctx);
  await streamPutCommand({ stream: 'orders', input: lines('a', 'b', 'c', 'd') }, cli.ctx);
  cli.clear();
  return cli;
}

async function withTrigger(options: string[] = ['start_position=earliest']): Promise<Captured> {
  const cli = await setup();
  await createTriggerCommand({ ...ref, type: 'stream', source: 'orders', option: options }, cli.ctx);
  cli.clear();
  return cli;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function status(): Promise<TriggerStatus> {
  const client = new ApiClient(server.url);
  const app = (await client.findApp('shop'))!;
  const fn = (await client.findFn(app.id, 'orders'))!;
  return client.triggerStatus((await client.findTrigger(app.id, fn.id, ref.name))!.id);
}

describe('create trigger --type stream', () => {
  it('creates a stream trigger with options (JSON when they parse), keeps the source as it is, and names its dead letters', async () => {
    const cli = await setup();
    const t = await createTriggerCommand({
      ...ref, type: 'stream', source: 'orders', option: ['start_position=earliest', 'batch_size=500', 'bisect_on_error=false', 'start_position={"offsets":{"0":1}}'],
    }, cli.ctx);
    expect(t).toMatchObject({ type: 'stream', source: 'orders' });
    expect(t.options).toMatchObject({ start_position: { offsets: { 0: 1 } }, batch_size: 500, bisect_on_error: false, dead_letter_stream: 'shop.orders.consume.dlq' });
    expect(cli.stdout()).toBe('Successfully created trigger: consume\nTrigger Stream: orders (dead letters go to shop.orders.consume.dlq)\n');
  });

  it('refuses --option on an http trigger, and hints at creating a missing stream', async () => {
    const cli = await setup();
    await expect(createTriggerCommand({ ...ref, source: '/x', option: ['batch_size=1'] }, cli.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE', message: '--option is for stream triggers; this one is http',
    });
    await expect(createTriggerCommand({ ...ref, type: 'stream', source: 'ghost' }, cli.ctx)).rejects.toMatchObject({
      status: 400, hint: 'create it with `fnts create stream ghost`, then create the trigger again',
    });
    await expect(createTriggerCommand({ ...ref, type: 'stream', source: 'orders', option: ['batch_size=0'] }, cli.ctx)).rejects.toMatchObject({
      status: 400, message: 'server answered 400: options.batch_size must be an integer from 1 to 10000',
    });
  });

  it('changes options with update trigger --option, keeping the others', async () => {
    const cli = await withTrigger(['start_position=earliest', 'batch_size=10']);
    const t = await updateTriggerCommand({ ...ref, option: ['max_attempts=3'] }, cli.ctx);
    expect(t.options).toMatchObject({ batch_size: 10, max_attempts: 3, start_position: 'earliest' });
    expect(cli.stdout()).toBe('shop orders consume updated\n');
  });
});

describe('trigger status, pause, resume, seek', () => {
  it('shows each partition: committed, end, lag, lag seconds, state (throttled: the image is missing) and last error', async () => {
    const cli = await withTrigger();
    await waitFor('both partitions to be throttled', async () =>
      (await status()).partitions.every((p) => p.state.kind === 'RETRYING' && p.last_error !== null));
    await triggerStatusCommand(ref, cli.ctx);
    const [head, table, ...rows] = cli.stdout().trimEnd().split('\n');
    expect(head).toBe('shop orders consume: embedded orders, running, 0 dead-lettered in shop.orders.consume.dlq');
    expect(table?.split(/\s{2,}/)).toEqual(['PARTITION', 'COMMITTED', 'END', 'LAG', 'LAG_SECONDS', 'STATE', 'LAST_ERROR']);
    const cells = rows.map((r) => r.split(/\s{2,}/));
    expect(cells.map((c) => c.slice(0, 4))).toEqual([['0', '0', '2', '2'], ['1', '0', '2', '2']]);
    for (const c of cells) {
      expect(Number(c[4])).toBeGreaterThanOrEqual(0);
      expect(c[5]).toBe('RETRYING(throttled)');
      expect(c[6]).not.toBe('');
    }

    cli.clear();
    const raw = await triggerStatusCommand({ ...ref, output: 'json' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toEqual(JSON.parse(JSON.stringify(raw)));
    expect(raw).toMatchObject({ name: 'consume', paused: false, source: { type: 'embedded', stream: 'orders' } });
  });

  it('pauses and resumes', async () => {
    const cli = await withTrigger();
    await pauseTriggerCommand(ref, cli.ctx);
    expect(cli.stdout()).toBe('shop orders consume paused\n');
    await waitFor('the partitions to pause', async () => (await status()).partitions.every((p) => p.state.kind === 'PAUSED'));
    expect((await status()).paused).toBe(true);
    cli.clear();
    await resumeTriggerCommand(ref, cli.ctx);
    expect(cli.stdout()).toBe('shop orders consume resumed\n');
    expect((await status()).paused).toBe(false);
  });

  it('seeks a paused trigger to latest, to offsets, or one partition to a time; a running one is refused with a hint', async () => {
    const cli = await withTrigger();
    const err = await seekTriggerCommand({ ...ref, to: 'latest' }, cli.ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 409,
      hint: 'pause it first: `fnts trigger pause shop orders consume`, then seek, then `fnts trigger resume shop orders consume`',
    });

    await pauseTriggerCommand(ref, cli.ctx);
    cli.clear();
    await seekTriggerCommand({ ...ref, to: 'latest' }, cli.ctx);
    expect(cli.stdout()).toBe('shop orders consume moved to latest: partition 0 at offset 2, partition 1 at offset 2\n');
    expect(cli.stderr()).toContain('`fnts trigger resume shop orders consume` delivers from there');
    expect((await status()).partitions.map((p) => [p.committed, p.lag_records])).toEqual([[2, 0], [2, 0]]);

    cli.clear();
    await seekTriggerCommand({ ...ref, offset: ['1:1'] }, cli.ctx);
    expect(cli.stdout()).toBe('shop orders consume moved to the given offsets: partition 1 at offset 1\n');
    expect((await status()).partitions.map((p) => p.committed)).toEqual([2, 1]);

    cli.clear();
    await seekTriggerCommand({ ...ref, to: '2000-01-01T00:00:00Z', partition: 0 }, cli.ctx);
    expect(cli.stdout()).toBe('shop orders consume moved to 2000-01-01T00:00:00.000Z: partition 0 at offset 0\n');
    expect((await status()).partitions.map((p) => p.committed)).toEqual([0, 1]);

    cli.clear();
    await seekTriggerCommand({ ...ref, offset: ['0:1', '1:99'] }, cli.ctx); // past the end: the server stops at the end
    expect(cli.stdout()).toBe('shop orders consume moved to the given offsets: partition 0 at offset 1, partition 1 at offset 2\n');
  });

  it('reads seek positions from the flags, and rejects bad ones before calling the server', () => {
    expect(seekPosition({ to: 'earliest' })).toBe('earliest');
    expect(seekPosition({ to: '1767225600000' })).toEqual({ timestamp: 1767225600000 });
    expect(seekPosition({ to: '2026-01-01T00:00:00Z' })).toEqual({ timestamp: 1767225600000 });
    expect(seekPosition({ offset: ['0:120', '3:7'] })).toEqual({ offsets: { 0: 120, 3: 7 } });
    expect(() => seekPosition({})).toThrow('seek needs one of --to and --offset');
    expect(() => seekPosition({ to: 'earliest', offset: ['0:1'] })).toThrow('seek needs one of --to and --offset');
    expect(() => seekPosition({ to: 'yesterday' })).toThrow('--to "yesterday" is not earliest, latest, a time or milliseconds');
    expect(() => seekPosition({ offset: ['0=1'] })).toThrow('--offset "0=1" must look like PARTITION:OFFSET');
    expect(() => seekPosition({ offset: ['0:1'], partition: 0 })).toThrow('--partition goes with --to');
  });

  it('refuses the control commands on an http trigger', async () => {
    const cli = await setup();
    await createTriggerCommand({ ...ref, source: '/orders' }, cli.ctx);
    await expect(triggerStatusCommand(ref, cli.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_NOT_STREAM_TRIGGER', hint: expect.stringContaining('fnts list triggers shop'),
    });
  });
});

describe('trigger redrive', () => {
  it('prints redriven and remaining; a letter that fails again stays, with the error, and the program exits 1', async () => {
    const cli = await setup();
    await createStreamCommand({ name: 'old', partitions: 1 }, cli.ctx);
    // Records older than max_record_age_ms are dead-lettered without a call: letters without a working function.
    const hourAgo = Date.now() - 3_600_000;
    await new ApiClient(server.url).putMessages('old', 'utf8', [{ value: 'stale-1', timestamp: hourAgo }, { value: 'stale-2', timestamp: hourAgo }]);
    await createTriggerCommand({ ...ref, type: 'stream', source: 'old', option: ['start_position=earliest', 'max_record_age_ms=1000'] }, cli.ctx);
    await waitFor('both records to be dead-lettered', async () => (await status()).partitions[0]?.dead_lettered === 2);
    cli.clear();

    const result = await redriveTriggerCommand(ref, cli.ctx);
    expect(result).toMatchObject({ redriven: 0, remaining: 2, error: expect.any(String) });
    expect(cli.stdout()).toBe('redriven 0, remaining 2\n');
    expect(cli.stderr()).toContain(`Redrive stopped: ${result.error}`);

    const codes: number[] = [];
    const program = buildProgram({
      context: () => cli.ctx,
      readStdin: async () => Buffer.alloc(0),
      openStdin: () => ({ input: lines(), terminal: false }),
      interruption: () => ({ signal: new AbortController().signal, release: () => undefined }),
      setExitCode: (code) => void codes.push(code),
    });
    cli.clear();
    await program.parseAsync(['trigger', 'redrive', 'shop', 'orders', 'consume', '--output', 'json'], { from: 'user' });
    expect(JSON.parse(cli.stdout())).toMatchObject({ redriven: 0, remaining: 2 });
    expect(codes).toEqual([1]);
  });

  it('says redriven 0, remaining 0 when there is nothing to redrive', async () => {
    const cli = await withTrigger();
    await expect(redriveTriggerCommand(ref, cli.ctx)).resolves.toEqual({ redriven: 0, remaining: 0 });
    expect(cli.stdout()).toBe('redriven 0, remaining 0\n');
  });
});

describe('deploy: func.yaml stream triggers', () => {
  it('creates a stream trigger with its options, then sends only the options that changed', async () => {
    const cli = await setup();
    const client = new ApiClient(server.url);
    const app = (await client.findApp('shop'))!;
    const fn = (await client.findFn(app.id, 'orders'))!;
    const wanted = { name: 'consume', type: 'stream' as const, source: 'orders', options: { batch_size: 50, start_position: 'earliest' } };

    const [created] = await deployTriggers(client, app, fn, [wanted], cli.ctx);
    expect(created).toMatchObject({ type: 'stream', source: 'orders', options: { batch_size: 50, start_position: 'earliest', paused: false } });
    expect(cli.stderr()).toBe('Trigger consume (stream orders): dead letters to shop.orders.consume.dlq; watch it with `fnts trigger status shop orders consume`\n');

    // Paused by hand: a deploy that does not mention `paused` keeps it paused.
    await pauseTriggerCommand(ref, cli.ctx);
    cli.clear();
    const [same] = await deployTriggers(client, app, fn, [wanted], cli.ctx);
    expect(same?.updated_at).toBe((await client.getTrigger(created!.id)).updated_at);
    expect(cli.stderr()).not.toContain('options changed');

    const [changed] = await deployTriggers(client, app, fn, [{ ...wanted, options: { ...wanted.options, batch_size: 200 } }], cli.ctx);
    expect(cli.stderr()).toContain('Trigger consume: options changed: batch_size\n');
    expect(changed?.options).toMatchObject({ batch_size: 200, start_position: 'earliest', paused: true });
  });

  it('compares options as JSON values, whatever the key order', () => {
    expect(changedOptions(
      { start_position: { offsets: { 1: 5, 0: 2 } }, batch_size: 10, max_attempts: 3 },
      { start_position: { offsets: { 0: 2, 1: 5 } }, batch_size: 10, max_attempts: 10, paused: true },
    )).toEqual({ max_attempts: 3 });
    expect(changedOptions(undefined, { batch_size: 10 })).toEqual({});
  });

  it('refuses to turn an http trigger into a stream trigger in place', async () => {
    const cli = await setup();
    await createTriggerCommand({ ...ref, source: '/consume' }, cli.ctx);
    const client = new ApiClient(server.url);
    const app = (await client.findApp('shop'))!;
    const fn = (await client.findFn(app.id, 'orders'))!;
    await expect(deployTriggers(client, app, fn, [{ name: 'consume', type: 'stream', source: 'orders' }], cli.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE', message: 'trigger "consume" is type http on the server but stream in func.yaml',
    });
  });
});
