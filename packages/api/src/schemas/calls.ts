import Type from 'typebox';

/* Calls, function output and the server's own endpoints. */

/** Any body, passed through as bytes: a call's input and output. */
export const Binary = Type.String({ format: 'binary' });

export const InvokeHeaders = Type.Object(
  {
    'fn-invoke-type': Type.Optional(Type.Literal('detached', { description: 'answer 202 at once; the call runs on' })),
  },
  { additionalProperties: true },
);

/** The headers of a call's answer: the function's own, and always the call's id. */
export const CallHeaders = {
  'Fn-Call-Id': { type: 'string', description: 'the call\'s id; the function\'s output is tagged with it' },
} as const;

export const TriggerPathParams = Type.Object({
  app_name: Type.String(),
  source: Type.String({ description: 'the rest of the path, slashes included: the HTTP trigger\'s source' }),
});
export const AppNameParams = Type.Object({ app_name: Type.String() });

export const LogsQuery = Type.Object({
  follow: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')], {
    description: 'keep the answer open and send new lines as they come',
  })),
  tail: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'how many recent lines, 100 by default, at most 1,000' })),
});

export const LogLine = Type.Object(
  {
    time: Type.String({ format: 'date-time' }),
    app_id: Type.String(),
    fn_id: Type.String(),
    container: Type.String(),
    call_id: Type.Optional(Type.String()),
    line: Type.String(),
  },
  { title: 'LogLine', description: 'one JSON object a line (NDJSON); a followed answer also sends empty lines to keep alive' },
);
/** One line a function printed, as `GET /v2/fns/{fn_id}/logs` sends it. */
export type LogLine = Type.Static<typeof LogLine>;

export const VersionResponse = Type.Object({ version: Type.String() }, { title: 'Version' });
export const RootResponse = Type.Object({ hello: Type.String(), goto: Type.String() });
export const MetricsText = Type.String({ description: 'Prometheus text exposition format' });

/** Fn's call model, plus the fields fnts's call history shows (type, duration, trigger, batch, error code). */
export const CallRecord = Type.Object(
  {
    id: Type.String(),
    app_id: Type.String(),
    fn_id: Type.String(),
    type: Type.Union([Type.Literal('sync'), Type.Literal('detached')]),
    status: Type.Union([
      Type.Literal('queued'), Type.Literal('running'), Type.Literal('success'),
      Type.Literal('error'), Type.Literal('timeout'), Type.Literal('cancelled'),
    ]),
    created_at: Type.String({ format: 'date-time' }),
    started_at: Type.Optional(Type.String({ format: 'date-time' })),
    completed_at: Type.Optional(Type.String({ format: 'date-time' })),
    duration_ms: Type.Optional(Type.Integer()),
    trigger_id: Type.Optional(Type.String()),
    batch: Type.Optional(Type.String()),
    error: Type.Optional(Type.String()),
    error_code: Type.Optional(Type.String()),
    attempts: Type.Integer(),
  },
  { title: 'Call' },
);
export type CallRecord = Type.Static<typeof CallRecord>;
export const CallRecordList = Type.Object({ items: Type.Array(CallRecord), next_cursor: Type.Optional(Type.String()) }, { title: 'CallList' });
export type CallRecordList = Type.Static<typeof CallRecordList>;
export const CallIdParams = Type.Object({ fn_id: Type.String(), call_id: Type.String() });
/** A call's output: the lines it printed, as text. */
export const CallLogText = Type.String({ description: 'one line a line, as the function printed them' });
export const CallListQuery = Type.Object({ cursor: Type.Optional(Type.String()), per_page: Type.Optional(Type.String()) });
