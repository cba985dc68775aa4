import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../src/streams/embedded/log.js';
import { createApp, createFn, createTrigger, expectError, req, useApiServer } from './support/api.js';

/** The `/v2/streams` API's validation, on an in-memory server (the log itself: stream-log.test.ts). */

const v = (s: string) => Buffer.from(s);

describe('/v2/streams API', () => {
  useApiServer();

  const post = (url: string, body: unknown) => req('POST', url, body);

  it('creates a stream with defaults and shows its offsets', async () => {
    const res = await post('/v2/streams', { name: 'orders.v1_x-y' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'orders.v1_x-y', partitions: 1, retention_ms: 7 * 86_400_000 });
    const got = await req('GET', '/v2/streams/orders.v1_x-y');
    expect(got.json()).toMatchObject({ id: res.json<{ id: string }>().id, offsets: [{ partition: 0, start: 0, end: 0 }] });
    expect((await req('GET', `/v2/streams/${res.json<{ id: string }>().id}`)).json()).toMatchObject({ name: 'orders.v1_x-y' });
  });

  it('validates name, partitions and retention, and refuses a duplicate name', async () => {
    expectError(await post('/v2/streams', {}), 400, 'Missing stream name', 'FNTS_ERR_API_VALIDATION');
    for (const name of ['has space', 'a/b', 'x'.repeat(256), '']) {
      expectError(await post('/v2/streams', { name }), 400, name === '' ? 'Missing stream name' : /^Invalid stream name/, 'FNTS_ERR_API_VALIDATION');
    }
    for (const partitions of [0, -1, 257]) {
      expectError(await post('/v2/streams', { name: 'p', partitions }), 400, 'partitions must be between 1 and 256', 'FNTS_ERR_API_VALIDATION');
    }
    expectError(await post('/v2/streams', { name: 'r', retention_ms: 999 }), 400, /^retention_ms must be between/, 'FNTS_ERR_API_VALIDATION');
    expect((await post('/v2/streams', { name: 'x'.repeat(255), partitions: 256 })).statusCode).toBe(200);
    expect((await post('/v2/streams', { name: 'dup' })).statusCode).toBe(200);
    expectError(await post('/v2/streams', { name: 'dup', partitions: 2 }), 409, 'Stream already exists', 'FNTS_ERR_API_CONFLICT');
    expect((await req('GET', '/v2/streams?name=p')).json()).toMatchObject({ items: [] });
  });

  it('answers 404 for an unknown stream on every route', async () => {
    for (const [method, url, body] of [
      ['GET', '/v2/streams/nope', undefined],
      ['PUT', '/v2/streams/nope', { retention_ms: 5000 }],
      ['DELETE', '/v2/streams/nope', undefined],
      ['POST', '/v2/streams/nope/messages', { messages: [{ value: 'x' }] }],
      ['GET', '/v2/streams/nope/messages', undefined],
      ['GET', '/v2/streams/nope/groups/g', undefined],
      ['PUT', '/v2/streams/nope/groups/g', { offsets: { 0: 1 } }],
    ] as const) {
      expectError(await req(method, url, body), 404, 'Stream not found', 'FNTS_ERR_STREAM_NOT_FOUND');
    }
  });

  it('refuses a value over 1 MiB with 413 and appends nothing of that request', async () => {
    await post('/v2/streams', { name: 'big' });
    const mib = 1024 * 1024;
    const tooBig = await post('/v2/streams/big/messages', { messages: [{ value: 'ok' }, { value: 'x'.repeat(mib + 1) }] });
    expectError(tooBig, 413, /is 1048577 bytes; the limit is 1 MiB/, 'FNTS_ERR_API_PAYLOAD_TOO_LARGE');
    expect((await req('GET', '/v2/streams/big')).json()).toMatchObject({ offsets: [{ partition: 0, start: 0, end: 0 }] });
    // Exactly 1 MiB is accepted.
    const ok = await post('/v2/streams/big/messages', { encoding: 'base64', messages: [{ value: Buffer.alloc(mib, 7).toString('base64') }] });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ offsets: [{ partition: 0, offset: 0 }] });
  });

  it('appends in utf8, base64 and json and reads back by offset, timestamp and limit', async () => {
    await post('/v2/streams', { name: 'enc', partitions: 2 });
    const put = async (body: unknown) => {
      const res = await post('/v2/streams/enc/messages', body);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ offsets: { partition: number; offset: number }[] }>().offsets;
    };
    const key = 'k1';
    const p = partitionForKey(v(key), 2);
    await put({ messages: [{ key, value: 'héllo', headers: { a: 'b' }, timestamp: 1000 }] });
    await put({ encoding: 'base64', messages: [{ key: Buffer.from(key).toString('base64'), value: Buffer.from([0, 255, 10]).toString('base64'), timestamp: 2000 }] });
    await put({ encoding: 'json', messages: [{ key, value: { n: 1, s: 'x' }, timestamp: 3000 }] });
    const read = async (query: string) => {
      const res = await req('GET', `/v2/streams/enc/messages?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ messages: { offset: number; key: string; value: string; headers: Record<string, string>; timestamp: number }[]; next_offset: number; end_offset: number }>();
    };
    const all = await read(`partition=${p}&encoding=base64`);
    expect(all.messages.map((m) => Buffer.from(m.value, 'base64'))).toEqual([Buffer.from('héllo'), Buffer.from([0, 255, 10]), Buffer.from('{"n":1,"s":"x"}')]);
    expect(all.messages.map((m) => Buffer.from(m.key, 'base64').toString())).toEqual([key, key, key]);
    expect(all.messages[0]).toMatchObject({ offset: 0, timestamp: 1000, headers: { a: 'b' } });
    expect(all).toMatchObject({ next_offset: 3, end_offset: 3 });
    const page = await read(`partition=${p}&offset=1&limit=1`);
    expect(page.messages.map((m) => m.offset)).toEqual([1]);
    expect(page).toMatchObject({ next_offset: 2, end_offset: 3 });
    const byTime = await read(`partition=${p}&timestamp=2500`);
    expect(byTime.messages.map((m) => m.value)).toEqual(['{"n":1,"s":"x"}']);
    const past = await read(`partition=${p}&timestamp=9999`);
    expect(past).toEqual({ messages: [], next_offset: 3, end_offset: 3 });
    expectError(await req('GET', '/v2/streams/enc/messages?partition=2'), 400, 'partition must be below 2', 'FNTS_ERR_API_VALIDATION');
    expectError(await post('/v2/streams/enc/messages', { encoding: 'base64', messages: [{ value: 5 }] }), 400, /must be a string/, 'FNTS_ERR_API_VALIDATION');
  });

  it('sets and reads consumer-group offsets, refusing a partition the stream does not have', async () => {
    await post('/v2/streams', { name: 'grp', partitions: 2 });
    expect((await req('GET', '/v2/streams/grp/groups/g')).json()).toEqual({ offsets: {} });
    const set = await req('PUT', '/v2/streams/grp/groups/g', { offsets: { 0: 4, 1: 2 } });
    expect(set.json()).toEqual({ offsets: { 0: 4, 1: 2 } });
    expect((await req('PUT', '/v2/streams/grp/groups/g', { offsets: { 1: 3 } })).json()).toEqual({ offsets: { 0: 4, 1: 3 } });
    expectError(await req('PUT', '/v2/streams/grp/groups/g', { offsets: { 2: 1 } }), 400, /partition 2 does not exist/, 'FNTS_ERR_API_VALIDATION');
  });

  it('refuses to delete a stream that feeds a trigger with 409, and deletes it once the trigger is gone', async () => {
    await post('/v2/streams', { name: 'feeds' });
    const app = await createApp({ name: 'sapp' });
    const fn = await createFn({ app_id: app.id, name: 'f', image: 'fnts-test-no-such-image:0.0.0' });
    const trigger = await createTrigger({ name: 'consume', app_id: app.id, fn_id: fn.id, type: 'stream', source: 'feeds' });
    // The dead-letter stream was made with the trigger.
    expect((await req('GET', '/v2/streams/sapp.f.consume.dlq')).json()).toMatchObject({ partitions: 1 });
    expectError(await req('DELETE', '/v2/streams/feeds'), 409, /feeds trigger consume; delete those triggers first/, 'FNTS_ERR_API_CONFLICT');
    expect((await req('GET', '/v2/streams/feeds')).statusCode).toBe(200);
    expect((await req('DELETE', `/v2/triggers/${trigger.id}`)).statusCode).toBe(204);
    const del = await req('DELETE', '/v2/streams/feeds');
    expect(del.statusCode, del.body).toBe(204);
    expectError(await req('GET', '/v2/streams/feeds'), 404, 'Stream not found');
  });

  it('refuses a stream trigger on a missing stream, and bad options, listing every problem', async () => {
    const app = await createApp({ name: 'oapp' });
    const fn = await createFn({ app_id: app.id, name: 'f', image: 'fnts-test-no-such-image:0.0.0' });
    const base = { name: 't', app_id: app.id, fn_id: fn.id, type: 'stream' };
    expectError(await post('/v2/triggers', { ...base, source: 'missing' }), 400, /stream "missing" does not exist/, 'FNTS_ERR_API_VALIDATION');
    await post('/v2/streams', { name: 'opts' });
    const bad = await post('/v2/triggers', { ...base, source: 'opts', options: { batch_size: 0, value_encoding: 'hex', start_position: 'middle', nope: 1 } });
    const body = expectError(bad, 400, /options\.batch_size must be an integer from 1 to 10000/, 'FNTS_ERR_API_VALIDATION');
    expect(body.message).toMatch(/options\.value_encoding/);
    expect(body.message).toMatch(/options\.start_position/);
    expect(body.message).toMatch(/options\.nope is not a stream trigger option/);
    // Defaults are filled in and returned.
    const ok = await post('/v2/triggers', { ...base, source: 'opts', options: { batch_size: 5 } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      options: {
        batch_size: 5, max_wait_ms: 0, start_position: 'latest', max_attempts: 10, bisect_on_error: true,
        dead_letter_stream: 'oapp.f.t.dlq', max_record_age_ms: 0, value_encoding: 'base64', paused: false,
      },
    });
  });
});
