import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../../test/support/postgres.js';
import { send, useServerUnderTest } from './support/server-process.js';

/** Two real `fnts-server` processes on one PostgreSQL database, as a load balancer would spread clients over them. */
describe('two fnts servers on one PostgreSQL database', () => {
  // Filled in before either server starts: beforeAll hooks run in the order they are declared.
  const env: Record<string, string> = {};
  beforeAll(async () => {
    env.FNTS_DB = await createDatabase(inject('postgresUrl'));
  });
  const a = useServerUnderTest(env);
  const b = useServerUnderTest(env);

  it('20 parallel creates of one app name spread over both: one 200, nineteen 409', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 === 0 ? a.url : b.url, 'POST', '/v2/apps', { name: 'contested' })));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(19).fill(409)]);
    for (const r of answers.filter((x) => x.status === 409)) {
      expect(r.json).toEqual({ message: 'App already exists', code: 'FNTS_ERR_API_CONFLICT' });
    }
    const created = answers.find((r) => r.status === 200)?.json as { id: string; name: string };
    for (const server of [a, b]) {
      const list = await send(server.url, 'GET', '/v2/apps?name=contested');
      expect(list.json.items).toEqual([expect.objectContaining({ id: created.id, name: 'contested' })]);
    }
  });

  it('a write through one is what the other reads next', async () => {
    const app = (await send(a.url, 'POST', '/v2/apps', { name: 'shared-writes' })).json as { id: string };
    const fn = (await send(b.url, 'POST', '/v2/fns', { app_id: app.id, name: 'f', image: 'example/f:1' })).json as { id: string };
    // b has the fn in its cache (an invoke reads it the same way); a's write drops it there through LISTEN/NOTIFY.
    expect((await send(b.url, 'GET', `/v2/fns/${fn.id}`)).json).toMatchObject({ image: 'example/f:1' });
    expect((await send(a.url, 'PUT', `/v2/fns/${fn.id}`, { image: 'example/f:2' })).status).toBe(200);
    expect((await send(b.url, 'GET', `/v2/fns/${fn.id}`)).json).toMatchObject({ id: fn.id, image: 'example/f:2' });
    expect((await send(b.url, 'DELETE', `/v2/apps/${app.id}`)).status).toBe(204);
    expect((await send(a.url, 'GET', `/v2/apps/${app.id}`)).status).toBe(404);
  });
});
