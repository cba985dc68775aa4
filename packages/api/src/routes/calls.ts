import Type from 'typebox';
import { failsWith, ok } from '../schemas/common.js';
import { FnIdParams } from '../schemas/resources.js';
import {
  AppNameParams, Binary, CallHeaders, CallIdParams, CallListQuery, CallLogText, CallRecord, CallRecordList, InvokeHeaders, LogLine, LogsQuery,
  MetricsText, RootResponse, TriggerPathParams, VersionResponse,
} from '../schemas/calls.js';

/*
 * Route schemas of calls, function output and the server's own endpoints. The bodies of these routes are not JSON
 * (a call's bytes, NDJSON, Prometheus text): fastify validates only `params` and `querystring` of them, and the
 * rest describes the route in /v2/openapi.json.
 */

/** What may go wrong with any call, besides finding its function. */
const callErrors = [
  'payloadTooLarge', 'functionFailed', 'invalidResponse', 'receiveFailed', 'timedOut', 'containerInitFailed',
  'containerInitTimeout', 'imageNotFound', 'imagePullFailed', 'imagePullTimeout', 'serverBusy',
] as const;

const anyBody = { content: { '*/*': { schema: Binary } } };

export const callSchemas = {
  listCalls: {
    operationId: 'listCalls', summary: 'A function\'s recent calls, newest first', tags: ['calls'], params: FnIdParams,
    querystring: CallListQuery,
    response: { 200: ok(CallRecordList, 'one page of call records'), ...failsWith('fnNotFound', 'validation') },
  },
  getCall: {
    operationId: 'getCall', summary: 'One call of a function: status, times, error', tags: ['calls'], params: CallIdParams,
    response: { 200: ok(CallRecord, 'the call record'), ...failsWith('fnNotFound', 'callNotFound') },
  },
  getCallLog: {
    operationId: 'getCallLog', summary: 'What one call printed (stdout and stderr), as text', tags: ['calls'], params: CallIdParams,
    description: 'Served from the function\'s recent output (a ring bounded in bytes, in memory): an empty answer means the call '
      + 'printed nothing; older output may have rotated out (404 FNTS_ERR_CALL_LOG_NOT_KEPT).',
    response: {
      200: { description: 'the call\'s lines, oldest first, each ending with a newline', content: { 'text/plain': { schema: CallLogText } } },
      ...failsWith('fnNotFound', 'callNotFound', 'callLogNotKept'),
    },
  },
  invoke: {
    operationId: 'invokeFn', summary: 'Call a function', tags: ['calls'], params: FnIdParams, headers: InvokeHeaders,
    description: 'The body is the function\'s input and the answer its output, both passed through as they are.',
    body: { ...anyBody, description: 'the function\'s input' },
    response: {
      200: { description: 'the function\'s output, with its headers', headers: CallHeaders, ...anyBody },
      202: Type.Unsafe<undefined>({ type: 'null', description: 'a detached call was accepted and runs on', headers: CallHeaders }),
      ...failsWith('fnNotFound', 'appNotFound', ...callErrors),
    },
  },
  /** Every HTTP method reaches the function; `source` is the rest of the path (CONTRACT §2.1). */
  httpTrigger: {
    summary: 'Call the function of an HTTP trigger', tags: ['calls'], params: TriggerPathParams,
    description: 'Any method; the function sees the method, URL and headers, and sets the status and headers of the answer.',
    body: { ...anyBody, description: 'the request\'s body, passed to the function' },
    response: {
      200: { description: 'the function\'s answer: its status (Fn-Http-Status) and headers', headers: CallHeaders, ...anyBody },
      ...failsWith('appNotFound', 'triggerNotFound', 'fnNotFound', 'validation', ...callErrors),
    },
  },
  /** The trigger whose source is `/`. */
  httpTriggerRoot: {
    summary: 'Call the function of an app\'s HTTP trigger on `/`', tags: ['calls'], params: AppNameParams,
    body: { ...anyBody, description: 'the request\'s body, passed to the function' },
    response: {
      200: { description: 'the function\'s answer: its status (Fn-Http-Status) and headers', headers: CallHeaders, ...anyBody },
      ...failsWith('appNotFound', 'triggerNotFound', 'fnNotFound', ...callErrors),
    },
  },
  logs: {
    operationId: 'getFnLogs', summary: 'A function\'s recent output, optionally followed', tags: ['fns'], params: FnIdParams,
    querystring: LogsQuery,
    response: {
      200: { description: 'NDJSON, one LogLine a line', content: { 'application/x-ndjson': { schema: LogLine } } },
      ...failsWith('fnNotFound', 'invalidJson'),
    },
  },
  metrics: {
    operationId: 'getMetrics', summary: 'Prometheus metrics', tags: ['meta'],
    response: {
      200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: MetricsText } } },
      ...failsWith(),
    },
  },
  version: {
    operationId: 'getVersion', summary: 'The server\'s version', tags: ['meta'],
    response: { 200: ok(VersionResponse, 'the server\'s version'), ...failsWith() },
  },
  root: {
    operationId: 'getRoot', summary: 'Fn\'s greeting', tags: ['meta'],
    response: { 200: ok(RootResponse, 'the server is up'), ...failsWith() },
  },
};
