import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEAD_LETTER_GAP_MARK } from '../packages/server/src/streams/embedded/test-hooks.js';
import { cleanup, runCli, runId, serverApi, startServerProcess, tempDir, waitFor, type ServerProcess } from './support/harness.js';
import { createDatabase } from './support/postgres.js';

/**
 * Issue 15: a dead letter is written exactly once whatever the crash timing. The server is killed (SIGKILL) inside
 * the dead-letter write, after the letter is appended and before the offset is committed (FNTS_TEST_DLQ_GAP_MS
 * stalls it there and it says so on stderr); restarted on the same data, it retries the record and dead-letters it
 * again: one letter in the dead-letter stream, not two. With the letter and the commit in separate transactions (as
 * before), the first letter would survive the kill and the retry would add a second.
 */

/** Fails every record, saying which. */
const POISONED = `import { handle } from '@fnts/fdk';

handle(async (input: any) => {
  const { batch } = input as { batch: { firstOffset: number } };
  console.log('ATTEMPT ' + batch.firstOffset);
  throw new Error('poison at ' + batch.firstOffset);
});
`;

/** How often the function was called for `offset`, from a server's own log (function output is logged with user_log). */
function attempts(server: ServerProcess, offset: number): number {
  return server.log().split('\n').filter((l) => l.startsWith('{') && l.includes('"user_log":true') && l.includes(`ATTEMPT ${offset}"`)).length;
}

const STORES = [{ store: 'SQLite' }, { store: 'PostgreSQL' }] as const;

describe.each(STORES)('a server on $store killed between a dead letter and its commit', ({ store }) => {
  const label = runId();
  let dir: string;
  let db: string;
  const servers: ServerProcess[] = [];

  const start = async (env: NodeJS.ProcessEnv = {}) => {
    const server = await startServerProcess({ dir, label, env: { ...(store === 'PostgreSQL' ? { FNTS_DB: db } : {}), ...env } });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    dir = await tempDir('fnts-dlq-crash-');
    db = store === 'PostgreSQL' ? await createDatabase(inject('postgresUrl')) : join(dir, 'fnts.db');
  });
  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) await s.stop();
    await cleanup(label, dir);
  });

  it('dead-letters the record exactly once after the restart', async () => {
    const first = await start({ FNTS_TEST_DLQ_GAP_MS: '120000' });
    const fnDir = join(dir, 'poisoned');
    await mkdir(fnDir);
    await writeFile(join(fnDir, 'func.yaml'), 'schema_version: 20180708\nname: poisoned\nversion: 0.0.1\nruntime: typescript\ntimeout: 30\n');
    await writeFile(join(fnDir, 'func.ts'), POISONED);
    const deploy = await runCli(['deploy', '--app', 'dlq', '--create-app'], {
      cwd: fnDir, env: { FNTS_API_URL: first.url, FNTS_IMAGE_LABELS: `fnts.test=${label}` },
    });
    expect(deploy.code, deploy.stderr).toBe(0);
    const app = (await serverApi<{ items: { id: string }[] }>(first, 'GET', '/v2/apps?name=dlq')).items[0];
    const fn = (await serverApi<{ items: { id: string }[] }>(first, 'GET', `/v2/fns?app_id=${app?.id}&name=poisoned`)).items[0];

    await serverApi(first, 'POST', '/v2/streams', { name: 'orders' });
    await serverApi(first, 'POST', '/v2/streams/orders/messages', { messages: [{ key: 'k', value: 'poison' }] });
    const trigger = await serverApi<{ id: string; options: { dead_letter_stream: string } }>(first, 'POST', '/v2/triggers', {
      name: 'orders', app_id: app?.id, fn_id: fn?.id, type: 'stream', source: 'orders',
      options: { batch_size: 1, max_attempts: 1, bisect_on_error: false, start_position: 'earliest', value_encoding: 'utf8' },
    });
    const dlq = trigger.options.dead_letter_stream;

    // The only attempt fails, the letter is appended, and the server stalls before the commit: kill it there.
    await waitFor('the server to stall inside the dead-letter write', () => first.log().includes(DEAD_LETTER_GAP_MARK), (y) => y);
    expect(attempts(first, 0)).toBe(1);
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;

    // Same data, no stall: the record was not committed, so it is tried again and dead-lettered again.
    const second = await start();
    const status = async () => (await serverApi<{ partitions: { committed: number; dead_lettered: number }[] }>(
      second, 'GET', `/v2/triggers/${trigger.id}/status`)).partitions[0];
    await waitFor('the record to be dead-lettered and committed', status, (s) => s?.committed === 1);
    expect(attempts(second, 0)).toBe(1);
    const letters = await serverApi<{ messages: { value: string; headers: Record<string, string> }[]; end_offset: number }>(
      second, 'GET', `/v2/streams/${dlq}/messages?encoding=utf8`);
    expect(letters.end_offset).toBe(1);
    expect(letters.messages).toHaveLength(1);
    expect(letters.messages[0]).toMatchObject({
      value: 'poison',
      headers: { 'fnts.dlq.id': 'orders/0/0', 'fnts.dlq.offset': '0', 'fnts.dlq.trigger-id': trigger.id, 'fnts.dlq.attempts': '1' },
    });
    expect(await serverApi(second, 'GET', `/v2/streams/orders/groups/${trigger.id}`)).toEqual({ offsets: { 0: 1 } });
  });
});
