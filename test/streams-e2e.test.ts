import type { PartitionStatus } from '@fnts/api';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, containersOf, runCli, runId, serverApi, startServerProcess, tempDir, waitFor, type ServerProcess } from './support/harness.js';

/**
 * STREAMS.md acceptance: "Kill the server mid-batch; restart: the batch is redelivered with the same batch.id, no gap."
 * A real server process, a function deployed with the real CLI, SIGKILL while a batch is in flight, and a new
 * process on the same data directory.
 */

/** Prints `BEGIN` when a batch arrives and `BATCH` with the processed offsets when done; the batch from offset 10 takes 2.5 s. */
const CONSUMER = `import { handle } from '@fnts/fdk';

handle(async (input: any) => {
  const { batch, records } = input as {
    batch: { id: string; attempt: number; firstOffset: number; lastOffset: number };
    records: { offset: number; value: string }[];
  };
  const info = { first: batch.firstOffset, last: batch.lastOffset, id: batch.id, attempt: batch.attempt };
  console.log('BEGIN ' + JSON.stringify(info));
  if (batch.firstOffset === 10) await new Promise((r) => setTimeout(r, 2500));
  console.log('BATCH ' + JSON.stringify({ ...info, done: records.map((r) => r.offset), values: records.map((r) => r.value) }));
  return { failures: [] };
});
`;

interface Line { first: number; last: number; id: string; attempt: number; done?: number[]; values?: string[] }

/** The function's lines of one kind, from a server process's own log (the function's output is logged with user_log). */
function fnLines(server: ServerProcess, kind: 'BEGIN' | 'BATCH'): Line[] {
  return server
    .log()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as { user_log?: boolean; msg?: string };
      } catch {
        return {};
      }
    })
    .filter((e) => e.user_log && e.msg?.startsWith(`${kind} `))
    .map((e) => JSON.parse((e.msg as string).slice(kind.length + 1)) as Line);
}

describe('a server killed mid-batch and restarted on the same data', () => {
  const label = runId();
  let dir: string;
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;

  beforeAll(async () => {
    dir = await tempDir('fnts-streams-e2e-');
    first = await startServerProcess({ dir, label });
  });

  afterAll(async () => {
    if (first && first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
    await second?.stop();
    await cleanup(label, dir);
  });

  it('redelivers the in-flight batch with the same batch id and loses nothing', async () => {
    const server1 = first as ServerProcess;
    const fnDir = join(dir, 'consumer');
    await mkdir(fnDir);
    await writeFile(join(fnDir, 'func.yaml'), 'schema_version: 20180708\nname: consumer\nversion: 0.0.1\nruntime: typescript\ntimeout: 60\n');
    await writeFile(join(fnDir, 'func.ts'), CONSUMER);
    const env = { FNTS_API_URL: server1.url, FNTS_IMAGE_LABELS: `fnts.test=${label}` };
    const deploy = await runCli(['deploy', '--app', 'streams', '--create-app'], { cwd: fnDir, env });
    expect(deploy.code, deploy.stderr).toBe(0);
    const app = (await serverApi<{ items: { id: string }[] }>(server1, 'GET', '/v2/apps?name=streams')).items[0];
    const fn = (await serverApi<{ items: { id: string }[] }>(server1, 'GET', `/v2/fns?app_id=${app?.id}&name=consumer`)).items[0];
    expect(fn?.id).toBeTruthy();

    await serverApi(server1, 'POST', '/v2/streams', { name: 'orders' });
    const n = 30;
    await serverApi(server1, 'POST', '/v2/streams/orders/messages', { messages: Array.from({ length: n }, (_, i) => ({ value: `order-${i}` })) });
    const trigger = await serverApi<{ id: string }>(server1, 'POST', '/v2/triggers', {
      name: 'orders', app_id: app?.id, fn_id: fn?.id, type: 'stream', source: 'orders',
      options: { batch_size: 10, start_position: 'earliest', value_encoding: 'utf8' },
    });
    const status = async (server: ServerProcess) =>
      (await serverApi<{ partitions: PartitionStatus[] }>(server, 'GET', `/v2/triggers/${trigger.id}/status`)).partitions[0] as PartitionStatus;

    // The second batch (10..19) is in the function when the server dies; the first one is committed.
    const begun = await waitFor('the batch from offset 10 to begin', () => fnLines(server1, 'BEGIN'), (ls) => ls.some((l) => l.first === 10), 30_000);
    const inFlight = begun.find((l) => l.first === 10) as Line;
    expect(await status(server1)).toMatchObject({ committed: 10, in_flight: { first: 10, last: 19, id: inFlight.id } });
    const leftover = (await containersOf(label)).map((c) => c.Id);
    expect(leftover).toHaveLength(1);
    const exited = new Promise((resolve) => server1.child.once('exit', resolve));
    server1.child.kill('SIGKILL');
    await exited;
    expect(fnLines(server1, 'BATCH').map((l) => l.done)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);

    // Same directory, so the same database and server id: the leftover container goes, the batch comes again.
    second = await startServerProcess({ dir, label });
    const server2 = second;
    expect((await containersOf(label)).map((c) => c.Id)).not.toContain(leftover[0]);
    const done = await waitFor('everything to be committed', () => status(server2), (s) => s.committed === n && s.in_flight === null, 40_000);
    expect(done).toMatchObject({ committed: n, end: n, lag_records: 0 });

    const again = await waitFor('the last batch line', () => fnLines(server2, 'BATCH'), (ls) => ls.some((l) => l.last === n - 1), 30_000);
    const redelivered = fnLines(server2, 'BEGIN')[0];
    expect(redelivered).toEqual({ first: 10, last: 19, id: inFlight.id, attempt: 1 });
    // No gap: the first server processed 0..9, the second 10..29, each once; together every offset, in order.
    expect(again.map((l) => [l.first, l.last])).toEqual([[10, 19], [20, 29]]);
    const processed = [...fnLines(server1, 'BATCH'), ...again].flatMap((l) => l.done ?? []);
    expect(processed).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(again.flatMap((l) => l.values ?? [])).toEqual(Array.from({ length: 20 }, (_, i) => `order-${i + 10}`));
    // The committed offset survived on disk as the consumer group's.
    expect(await serverApi(server2, 'GET', `/v2/streams/orders/groups/${trigger.id}`)).toEqual({ offsets: { 0: n } });
  });
});
