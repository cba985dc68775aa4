import { failsWith, ListQuery, NoContent, ok } from '../schemas/common.js';
import { TriggerIdParams } from '../schemas/resources.js';
import { RedriveResult, SeekBody, TriggerStatus } from '../schemas/stream-control.js';
import {
  GroupOffsets, GroupOffsetsBody, GroupParams, MessagePage, PutMessagesBody, PutMessagesResponse, ReadMessagesQuery,
  StreamBody, StreamDeleteQuery, StreamList, StreamParams, StreamResponse,
} from '../schemas/streams.js';

/* Route schemas of the fnts extensions: embedded streams and the control of stream triggers (STREAMS.md). */

export const streamSchemas = {
  list: {
    operationId: 'listStreams', summary: 'List embedded streams', tags: ['streams'], querystring: ListQuery,
    response: { 200: ok(StreamList, 'one page of streams, by name'), ...failsWith('validation') },
  },
  create: {
    operationId: 'createStream', summary: 'Create an embedded stream', tags: ['streams'], body: StreamBody,
    response: { 200: ok(StreamResponse, 'the stream created'), ...failsWith('validation', 'invalidJson', 'conflict') },
  },
  get: {
    operationId: 'getStream', summary: 'Get a stream with its partitions\' offsets', tags: ['streams'], params: StreamParams,
    response: { 200: ok(StreamResponse, 'the stream, with the offsets of its partitions'), ...failsWith('streamNotFound') },
  },
  update: {
    operationId: 'updateStream', summary: 'Change a stream\'s retention', tags: ['streams'], params: StreamParams,
    body: StreamBody,
    response: { 200: ok(StreamResponse, 'the stream as updated'), ...failsWith('validation', 'invalidJson', 'streamNotFound', 'conflict') },
  },
  delete: {
    operationId: 'deleteStream', summary: 'Delete a stream no trigger reads', tags: ['streams'], params: StreamParams,
    querystring: StreamDeleteQuery,
    response: { 204: NoContent, ...failsWith('streamNotFound', 'conflict') },
  },
  putMessages: {
    operationId: 'putMessages', summary: 'Append messages (at most 10,000 a request)', tags: ['streams'], params: StreamParams,
    body: PutMessagesBody,
    response: { 200: ok(PutMessagesResponse, 'where each message went'), ...failsWith('validation', 'invalidJson', 'streamNotFound', 'payloadTooLarge') },
  },
  readMessages: {
    operationId: 'readMessages', summary: 'Read one partition\'s messages from an offset or a time', tags: ['streams'],
    params: StreamParams, querystring: ReadMessagesQuery,
    response: { 200: ok(MessagePage, 'the messages, and where to read next'), ...failsWith('validation', 'invalidJson', 'streamNotFound') },
  },
  getGroup: {
    operationId: 'getGroupOffsets', summary: 'A consumer group\'s committed offsets', tags: ['streams'], params: GroupParams,
    response: { 200: ok(GroupOffsets, 'the committed offsets by partition'), ...failsWith('streamNotFound') },
  },
  setGroup: {
    operationId: 'setGroupOffsets', summary: 'Set a consumer group\'s committed offsets', tags: ['streams'],
    params: GroupParams, body: GroupOffsetsBody,
    response: { 200: ok(GroupOffsets, 'the committed offsets by partition, as set'), ...failsWith('validation', 'invalidJson', 'streamNotFound') },
  },
};

const control = ['validation', 'triggerNotFound', 'streamTriggerNotRunning'] as const;

export const streamControlSchemas = {
  status: {
    operationId: 'getTriggerStatus', summary: 'A stream trigger\'s partitions: offsets, lag, state', tags: ['triggers'],
    params: TriggerIdParams,
    response: { 200: ok(TriggerStatus, 'the trigger\'s source and partitions'), ...failsWith(...control) },
  },
  pause: {
    operationId: 'pauseTrigger', summary: 'Pause a stream trigger (the batch in flight finishes)', tags: ['triggers'],
    params: TriggerIdParams,
    response: { 200: ok(TriggerStatus, 'the trigger\'s status, paused'), ...failsWith(...control) },
  },
  resume: {
    operationId: 'resumeTrigger', summary: 'Resume a paused stream trigger', tags: ['triggers'], params: TriggerIdParams,
    response: { 200: ok(TriggerStatus, 'the trigger\'s status, running'), ...failsWith(...control) },
  },
  seek: {
    operationId: 'seekTrigger', summary: 'Move a paused stream trigger\'s read position', tags: ['triggers'],
    params: TriggerIdParams, body: SeekBody,
    response: { 200: ok(TriggerStatus, 'the trigger\'s status at its new position'), ...failsWith(...control, 'invalidJson', 'conflict') },
  },
  redrive: {
    operationId: 'redriveTrigger', summary: 'Send the dead letters back to the function, in order', tags: ['triggers'],
    params: TriggerIdParams,
    response: { 200: ok(RedriveResult, 'how many dead letters went back, and how many remain'), ...failsWith(...control) },
  },
};
