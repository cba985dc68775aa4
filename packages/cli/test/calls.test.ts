// A failed call leads to its fix from the CLI: `fnts invoke` prints the function's error, the call id and the command
// that shows the call's output; `fnts get logs`, `fnts logs --call`, `fnts list calls` and `fnts inspect call` read the
// call history. A real server in this process (its containers labelled with this file's run) and real Docker builds.
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp, loadConfig } from '@fnts/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callLogCommand, inspectCallCommand, listCallsCommand } from '../src/commands/calls/calls.js';
import { deployCommand } from '../src/commands/deploy/deploy.js';
import { failureReport, invokeCommand } from '../src/commands/invoke/invoke.js';
import { logsCommand } from '../src/commands/logs/logs.js';
import { buildProgram } from '../src/program.js';
import { docker, imagesPerFile, TEST_LABEL } from './support/docker.js';
import { captureContext, tempDirPerTest, type Captured } from './support/harness.js';

const tmp = tempDirPerTest();
const { run, labels } = imagesPerFile();

const FUNC = `import { handle } from '@fnts/fdk';
handle(async (input: { fail?: boolean; quiet?: boolean }, ctx) => {
  if (input?.quiet) return { quiet: true };
  console.log('working on ' + ctx.callId);
  if (input?.fail) throw new Error('the order has no items');
  return { ok: true };
});
`;

let url = '';
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const app = await buildApp({
    config: loadConfig({ FNTS_DB: ':memory:', FNTS_LOG_LEVEL: 'silent', FNTS_CONTAINER_LABELS: `${TEST_LABEL}=${run}` }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  close = () => app.close();
});
afterAll(async () => {
  await close?.();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${run}`] } })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
});

const cli = (cwd = tmp.path): Captured => captureContext(url, cwd, { imageLabels: labels });

/** Deploys the test function to app `shop` and returns its name. */
async function deployFn(): Promise<string> {
  const name = `calls-${run}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = join(tmp.path, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'func.yaml'), ['schema_version: 20180708', `name: ${name}`, 'version: 0.0.1', 'runtime: typescript', ''].join('\n'));
  await writeFile(join(dir, 'func.ts'), FUNC);
  await deployCommand({ app: 'shop', createApp: true }, cli(dir).ctx);
  return name;
}

/** Runs `fnts get logs` until its output holds `text` (output reaches the server through Docker, after the answer). */
async function logsUntil(fn: string, callId: string, text: string): Promise<Captured> {
  const until = Date.now() + 10_000;
  for (;;) {
    const c = cli();
    await callLogCommand({ app: 'shop', fn, callId }, c.ctx);
    if (c.stdout().includes(text) || Date.now() > until) return c;
    await sleep(50);
  }
}

describe('a failed call from the CLI', () => {
  it('prints the error, the call id and the command for its output; the output, the history and the record follow', async () => {
    const fn = await deployFn();

    // Before any call: `fnts logs` says there is nothing, on stderr.
    const empty = cli();
    await logsCommand({ app: 'shop', fn }, empty.ctx);
    expect(empty.stdout()).toBe('');
    expect(empty.stderr()).toMatch(new RegExp(`^Function ${fn} in app shop has printed nothing`));

    const ok = cli();
    expect(await invokeCommand({ app: 'shop', fn, body: Buffer.from('{}'), contentType: 'application/json' }, ok.ctx)).toBe(0);
    const failed = cli();
    const code = await invokeCommand({ app: 'shop', fn, body: Buffer.from('{"fail":true}'), contentType: 'application/json' }, failed.ctx);
    expect(code).toBe(1);
    const report = failed.stderr();
    const callId = /call id: (\w+)/.exec(report)?.[1] ?? '';
    expect(report).toBe([
      'Error invoking function. status: 502 message: function failed',
      '  error: Error: the order has no items',
      `  call id: ${callId}`,
      `  see its output: fnts get logs shop ${fn} ${callId}`,
      '',
    ].join('\n'));

    // The command it printed shows the call's own lines.
    const logs = await logsUntil(fn, callId, 'the order has no items');
    expect(logs.stdout()).toContain(`working on ${callId}\n`);
    expect(logs.stdout()).toContain(`fnts-fdk: function failed in call ${callId}: Error: the order has no items\n`);
    const byFlag = cli();
    await logsCommand({ app: 'shop', fn, call: callId }, byFlag.ctx);
    expect(byFlag.stdout()).toBe(logs.stdout());
    const json = cli();
    await logsCommand({ app: 'shop', fn, call: callId, output: 'json' }, json.ctx);
    expect(json.stdout().split('\n')[0]).toBe(JSON.stringify({ call_id: callId, line: `working on ${callId}` }));

    const list = cli();
    const calls = await listCallsCommand({ app: 'shop', fn }, list.ctx);
    expect(calls.map((c) => c.status)).toEqual(['error', 'success']);
    const [heading, first] = list.stdout().split('\n');
    expect(heading).toMatch(/^ID +STATUS +CREATED +DURATION +ORIGIN +ERROR$/);
    expect(first).toMatch(new RegExp(`^${callId} +error +\\S+ +\\d+(ms|\\.\\ds) +invoke +function failed: Error: the order has no items$`));
    const asJson = cli();
    await listCallsCommand({ app: 'shop', fn, output: 'json', limit: 1 }, asJson.ctx);
    expect((JSON.parse(asJson.stdout()) as { id: string }[]).map((c) => c.id)).toEqual([callId]);

    const inspect = cli();
    await inspectCallCommand({ app: 'shop', fn, callId, field: 'error' }, inspect.ctx);
    expect(inspect.stdout()).toBe('function failed: Error: the order has no items\n');
  });

  it('says so when a call printed nothing, and gives a hint for an unknown call', async () => {
    const fn = await deployFn();
    const quiet = cli();
    expect(await invokeCommand({ app: 'shop', fn, body: Buffer.from('{"quiet":true}'), contentType: 'application/json', displayCallId: true }, quiet.ctx)).toBe(0);
    const callId = /Call ID: (\w+)/.exec(quiet.stdout())?.[1] ?? '';
    const log = cli();
    await callLogCommand({ app: 'shop', fn, callId }, log.ctx);
    expect({ out: log.stdout(), err: log.stderr() }).toEqual({ out: '', err: `Call ${callId} of function ${fn} printed nothing\n` });
    await expect(callLogCommand({ app: 'shop', fn, callId: '01ABCDEFGHJKMNPQRSTVWXYZ00' }, cli().ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_CALL_NOT_FOUND', hint: expect.stringContaining(`fnts list calls shop ${fn}`),
    });
    await expect(logsCommand({ app: 'shop', fn, call: callId, follow: true }, cli().ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE' });
  });
});

describe('the CLI words for calls', () => {
  it('parses Fn\'s `list calls`, `get logs` and `inspect call`, with `get` a verb of its own', () => {
    const prog = buildProgram({
      context: () => cli().ctx, readStdin: async () => Buffer.alloc(0),
      openStdin: () => ({ input: (async function* () {})(), terminal: true }), interruption: () => ({ signal: new AbortController().signal, release: () => undefined }),
      setExitCode: () => undefined,
    });
    const sub = (verb: string, object: string) => prog.commands.find((c) => c.name() === verb)?.commands.find((c) => c.name() === object);
    expect(sub('list', 'calls')?.usage()).toContain('<app> <fn>');
    expect(sub('get', 'logs')?.usage()).toContain('<app> <fn> <call_id>');
    expect(sub('inspect', 'call')?.usage()).toContain('<app> <fn> <call_id> [field]');
    expect(prog.commands.find((c) => c.name() === 'logs')?.options.map((o) => o.long)).toContain('--call');
  });

  it('reports a failure with Fn\'s line first, and the call from the body when no header names it', () => {
    const body = Buffer.from(JSON.stringify({ message: 'function failed', code: 'X', detail: 'Error: bad\u001b[2J', call_id: '01CALL' }));
    expect(failureReport({ app: 'a', fn: 'f' }, 502, body, undefined)).toBe([
      'Error invoking function. status: 502 message: function failed', '  error: Error: bad?[2J', '  call id: 01CALL',
      '  see its output: fnts get logs a f 01CALL', '',
    ].join('\n'));
    expect(failureReport({ app: 'a', fn: 'f' }, 504, Buffer.from('{"message":"Timed out"}'), undefined)).toBe(
      'Error invoking function. status: 504 message: Timed out\n');
  });
});
