import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { streamSchemas } from '@fnts/api';
import { MAX_STREAM_MESSAGE_BYTES, MAX_STREAM_PUT_BODY_BYTES } from '@fnts/api/limits';
import { errors } from '../errors.js';
import type { NewMessage, StoredMessage, StreamInfo } from '../streams/embedded/log.js';
import type { ApiDeps } from './deps.js';
import { listBody, listOptions } from './pagination.js';

const NAME_RE = /^[\p{L}\p{N}_.-]{1,255}$/u;
const MAX_VALUE_BYTES = MAX_STREAM_MESSAGE_BYTES;
const DEFAULT_RETENTION_MS = 7 * 86_400_000;

function decode(value: unknown, encoding: 'utf8' | 'base64' | 'json', what: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify(value));
  if (typeof value !== 'string') throw errors.validation(`${what} must be a string with encoding ${encoding}`);
  return Buffer.from(value, encoding);
}

function render(m: StoredMessage, encoding: 'utf8' | 'base64') {
  return {
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key ? m.key.toString(encoding) : null,
    value: m.value.toString(encoding),
    headers: m.headers,
  };
}

/**
 * A server without the embedded log (streams/embedded/open.ts refuses it) answers every streams route with one error
 * that points at Kafka: never an empty list that reads as "no streams yet".
 */
const refusedStreamRoutes: FastifyPluginAsyncTypebox = async (api) => {
  const refuse = async (): Promise<never> => {
    throw errors.embeddedStreamsUnavailable();
  };
  api.all('/v2/streams', { schema: { hide: true } }, refuse);
  api.all('/v2/streams/*', { schema: { hide: true } }, refuse);
};

/** Embedded streams: `/v2/streams` (fnts extension): the log, its messages and consumer-group offsets. */
export function streamRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const log = deps.streamLog;
  if (!log) return refusedStreamRoutes;
  const load = async (idOrName: string): Promise<StreamInfo> => {
    const s = await log.getStream(idOrName);
    if (!s) throw errors.streamNotFound();
    return s;
  };

  return async (api) => {
    api.get('/v2/streams', { schema: streamSchemas.list }, async (req) => {
      const opts = listOptions(req.query);
      const items = await log.listStreams(opts);
      return listBody({ items, ...(items.length === opts.limit ? { nextCursor: items[items.length - 1]?.name } : {}) }, (s) => s);
    });

    api.post('/v2/streams', { schema: streamSchemas.create }, async (req) => {
      const { name, partitions = 1, retention_ms = DEFAULT_RETENTION_MS } = req.body;
      if (!name) throw errors.validation('Missing stream name');
      if (!NAME_RE.test(name)) throw errors.validation('Invalid stream name: use at most 255 letters, digits, "_", "-" or "."');
      if (partitions < 1 || partitions > 256) throw errors.validation('partitions must be between 1 and 256');
      if (retention_ms < 1000 || retention_ms > 3650 * 86_400_000) throw errors.validation('retention_ms must be between 1000 and 315360000000');
      if (await log.getStream(name)) throw errors.conflict('Stream already exists');
      const now = deps.now();
      return log.createStream({ id: deps.newId(), name, partitions, retention_ms, created_at: now, updated_at: now });
    });

    api.get('/v2/streams/:stream', { schema: streamSchemas.get }, async (req) => {
      const s = await load(req.params.stream);
      return { ...s, offsets: await log.bounds(s.id) };
    });

    api.put('/v2/streams/:stream', { schema: streamSchemas.update }, async (req) => {
      const s = await load(req.params.stream);
      if (req.body.name && req.body.name !== s.name) throw errors.conflict('Could not update - name is immutable');
      if (req.body.partitions !== undefined && req.body.partitions !== s.partitions) {
        throw errors.validation('the number of partitions cannot change: keys would move to other partitions');
      }
      const retention = req.body.retention_ms;
      if (retention === undefined || retention === s.retention_ms) return s;
      if (retention < 1000 || retention > 3650 * 86_400_000) throw errors.validation('retention_ms must be between 1000 and 315360000000');
      const now = deps.now();
      await log.updateRetention(s.id, retention, now);
      return { ...s, retention_ms: retention, updated_at: now };
    });

    api.delete('/v2/streams/:stream', { schema: streamSchemas.delete }, async (req, reply) => {
      const s = await load(req.params.stream);
      const triggers = await deps.store.listTriggersByType('stream');
      const users = triggers.filter((t) => t.source === s.name || t.source === s.id);
      if (users.length > 0) {
        throw errors.conflict(`stream "${s.name}" feeds trigger ${users.map((t) => t.name).join(', ')}; delete those triggers first`);
      }
      const dlqOf = triggers.filter((t) => (t.options as { dead_letter_stream?: string } | undefined)?.dead_letter_stream === s.name);
      // force: the operator means it; those triggers block (visibly) until the stream exists again.
      if (dlqOf.length > 0 && req.query.force !== 'true') {
        throw errors.conflict(`stream "${s.name}" holds the dead letters of trigger ${dlqOf.map((t) => t.name).join(', ')}; delete those triggers first, or pass force=true`);
      }
      await log.deleteStream(s.id);
      return reply.code(204).send();
    });

    api.post('/v2/streams/:stream/messages', {
      schema: streamSchemas.putMessages,
      bodyLimit: MAX_STREAM_PUT_BODY_BYTES,
    }, async (req) => {
      const s = await load(req.params.stream);
      const encoding = req.body.encoding ?? 'utf8';
      const messages: NewMessage[] = req.body.messages.map((m, i) => {
        const value = decode(m.value, encoding, `messages[${i}].value`);
        if (value.length > MAX_VALUE_BYTES) throw errors.payloadTooLarge(`messages[${i}].value is ${value.length} bytes; the limit is 1 MiB`);
        return {
          key: m.key === undefined || m.key === null ? null : decode(m.key, encoding === 'json' ? 'utf8' : encoding, `messages[${i}].key`),
          value,
          ...(m.headers ? { headers: m.headers } : {}),
          ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}),
        };
      });
      return { offsets: await log.append(s, messages) };
    });

    api.get('/v2/streams/:stream/messages', { schema: streamSchemas.readMessages }, async (req) => {
      const s = await load(req.params.stream);
      const partition = Number(req.query.partition ?? 0);
      if (partition >= s.partitions) throw errors.validation(`partition must be below ${s.partitions}`);
      const bounds = (await log.bounds(s.id)).find((b) => b.partition === partition) ?? { start: 0, end: 0 };
      const from = req.query.timestamp !== undefined
        ? await log.offsetForTime(s.id, partition, Number(req.query.timestamp))
        : Math.max(Number(req.query.offset ?? bounds.start), bounds.start);
      const limit = Math.min(Math.max(Number(req.query.limit ?? 100), 1), 1000);
      const messages = await log.read(s.id, partition, from, limit);
      const last = messages[messages.length - 1];
      return {
        messages: messages.map((m) => render(m, req.query.encoding ?? 'utf8')),
        next_offset: last ? last.offset + 1 : from,
        end_offset: bounds.end,
      };
    });

    api.get('/v2/streams/:stream/groups/:group', { schema: streamSchemas.getGroup }, async (req) => {
      const s = await load(req.params.stream);
      return { offsets: Object.fromEntries(await log.getGroupOffsets(req.params.group, s.id)) };
    });

    api.put('/v2/streams/:stream/groups/:group', { schema: streamSchemas.setGroup }, async (req) => {
      const s = await load(req.params.stream);
      for (const [p, offset] of Object.entries(req.body.offsets)) {
        if (Number(p) >= s.partitions) throw errors.validation(`partition ${p} does not exist (the stream has ${s.partitions})`);
        await log.commitOffset({ group: req.params.group, streamId: s.id, partition: Number(p), offset });
      }
      return { offsets: Object.fromEntries(await log.getGroupOffsets(req.params.group, s.id)) };
    });
  };
}
