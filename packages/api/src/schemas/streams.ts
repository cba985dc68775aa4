import Type from 'typebox';
import { DateTime, ListOf } from './common.js';

/* Embedded streams (fnts extension, STREAMS.md): partitioned logs, their messages and consumer-group offsets. */

const Digits = Type.String({ pattern: '^[0-9]+$' });
/** Offsets by partition number (a JSON object's keys are strings). */
const OffsetsByPartition = Type.Record(Digits, Type.Integer({ minimum: 0 }));

export const StreamParams = Type.Object({ stream: Type.String({ description: 'the stream\'s name or id' }) });
export const GroupParams = Type.Object({ stream: Type.String({ description: 'the stream\'s name or id' }), group: Type.String() });

export const StreamBody = Type.Object({
  name: Type.Optional(Type.String()),
  partitions: Type.Optional(Type.Integer({ description: '1 to 256; fixed once created' })),
  retention_ms: Type.Optional(Type.Integer({ description: 'how long messages are kept, 1 s to 10 years; 7 days by default' })),
});
export type StreamBody = Type.Static<typeof StreamBody>;

export const PartitionBounds = Type.Object({
  partition: Type.Integer(),
  start: Type.Integer({ description: 'the first offset still kept' }),
  end: Type.Integer({ description: 'the next offset to be written' }),
});

export const StreamResponse = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    partitions: Type.Integer(),
    retention_ms: Type.Integer(),
    offsets: Type.Optional(Type.Array(PartitionBounds, { description: 'per partition (GET of one stream only)' })),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { title: 'Stream' },
);
export const StreamList = ListOf(StreamResponse, 'StreamList');
/** An embedded stream: a partitioned, append-only log on the server. */
export type Stream = Type.Static<typeof StreamResponse>;
export type NewStream = { name: string; partitions?: number; retention_ms?: number };

export const StreamDeleteQuery = Type.Object({
  force: Type.Optional(Type.Literal('true', { description: 'also delete a stream that holds a trigger\'s dead letters' })),
});

const Encoding = Type.Union([Type.Literal('utf8'), Type.Literal('base64'), Type.Literal('json')]);
export const PutMessagesBody = Type.Object({
  encoding: Type.Optional(Encoding),
  messages: Type.Array(
    Type.Object({
      key: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      value: Type.Unknown({ description: 'a string in the encoding, or any JSON value with encoding json' }),
      headers: Type.Optional(Type.Record(Type.String(), Type.String())),
      timestamp: Type.Optional(Type.Integer({ description: 'milliseconds since the epoch; now by default' })),
    }),
    { maxItems: 10_000 },
  ),
});
export type PutMessagesBody = Type.Static<typeof PutMessagesBody>;
/** One message to append; `key` and `value` are in the request's encoding. */
export interface OutgoingMessage {
  key?: string;
  value: string;
  headers?: Record<string, string>;
  timestamp?: number;
}

export const MessagePosition = Type.Object({ partition: Type.Integer(), offset: Type.Integer() });
/** Where the server put one appended message. */
export type MessagePosition = Type.Static<typeof MessagePosition>;
export const PutMessagesResponse = Type.Object({ offsets: Type.Array(MessagePosition, { description: 'in the order sent' }) });

export const ReadMessagesQuery = Type.Object({
  partition: Type.Optional(Digits),
  offset: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'clamped to the oldest kept' })),
  timestamp: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'start at the first message at or after it' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: '100 by default, at most 1,000' })),
  encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
});

export const StreamMessage = Type.Object({
  partition: Type.Integer(),
  offset: Type.Integer(),
  timestamp: Type.Integer(),
  key: Type.Union([Type.String(), Type.Null()]),
  value: Type.String(),
  headers: Type.Record(Type.String(), Type.String()),
});
/** One message read back; `key` and `value` are in the encoding asked for. */
export type StreamMessage = Type.Static<typeof StreamMessage>;

export const MessagePage = Type.Object(
  {
    messages: Type.Array(StreamMessage),
    next_offset: Type.Integer({ description: 'where the next read of this partition starts' }),
    end_offset: Type.Integer({ description: 'the partition\'s end when this page was read' }),
  },
  { title: 'MessagePage' },
);
export type MessagePage = Type.Static<typeof MessagePage>;

export const GroupOffsetsBody = Type.Object({ offsets: OffsetsByPartition });
export const GroupOffsets = Type.Object({ offsets: Type.Record(Digits, Type.Integer()) }, { title: 'GroupOffsets' });
export type GroupOffsets = Type.Static<typeof GroupOffsets>;
