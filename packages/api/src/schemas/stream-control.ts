import Type from 'typebox';

/* Control of stream triggers (fnts extension, STREAMS.md §10, §11, §14): status, pause, resume, seek, redrive. */

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A partition worker's state; the fields beyond `kind` belong to RETRYING (attempt…throttled) and BLOCKED (reason). */
export const PartitionState = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('IDLE'), Type.Literal('RUNNING'), Type.Literal('RETRYING'), Type.Literal('PAUSED'), Type.Literal('BLOCKED'),
      Type.Literal('UNASSIGNED'),
    ], { description: 'UNASSIGNED: another server reads this partition (Kafka: another member of the consumer group; embedded streams on PostgreSQL: the server in `owner`), or nobody does yet' }),
    attempt: Type.Optional(Type.Integer()),
    nextAt: Type.Optional(Type.String({ format: 'date-time' })),
    lastError: Type.Optional(Type.String()),
    throttled: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const BatchInFlight = Type.Object(
  {
    partition: Type.Optional(Type.Integer()),
    first: Type.Integer(),
    last: Type.Integer(),
    id: Type.String({ description: 'the batch id the function sees, stable across retries' }),
    attempt: Type.Integer(),
  },
  { additionalProperties: true },
);

export const PartitionStatus = Type.Object(
  {
    partition: Type.Integer(),
    committed: Type.Integer({ description: 'the next offset the trigger will read' }),
    start: Type.Integer(),
    end: Type.Integer(),
    lag_records: Type.Integer(),
    lag_seconds: Type.Number(),
    state: PartitionState,
    in_flight: Nullable(BatchInFlight),
    last_error: Nullable(Type.String()),
    last_success_at: Nullable(Type.String({ format: 'date-time' })),
    dead_lettered: Type.Integer(),
    owner: Type.Optional(Nullable(Type.String({
      description: 'embedded streams on a PostgreSQL store shared by several servers: the id of the server holding the partition\'s lease (null: none now)',
    }))),
  },
  { title: 'PartitionStatus' },
);
/** A stream trigger's partition as `GET /v2/triggers/{id}/status` shows it. */
export type PartitionStatus = Type.Static<typeof PartitionStatus>;

export const TriggerStatus = Type.Object(
  {
    trigger_id: Type.String(),
    name: Type.String(),
    fn_id: Type.String(),
    source: Type.Object(
      {
        type: Type.Union([Type.Literal('embedded'), Type.Literal('kafka')]),
        stream: Type.String(),
      },
      { additionalProperties: true, description: 'Kafka sources add topic, brokers, group_id, assignment and connection facts' },
    ),
    paused: Type.Boolean(),
    dead_letter_stream: Type.Optional(Type.String()),
    partitions: Type.Array(PartitionStatus),
  },
  { title: 'TriggerStatus' },
);
export type TriggerStatus = Type.Static<typeof TriggerStatus>;

const OffsetsByPartition = Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.Integer({ minimum: 0 }));
export const SeekPosition = Type.Union([
  Type.Literal('earliest'),
  Type.Literal('latest'),
  Type.Object({ timestamp: Type.Integer() }),
  Type.Object({ offsets: OffsetsByPartition }),
]);
/** Where `seek` moves a paused stream trigger (STREAMS.md §10). */
export type SeekPosition = Type.Static<typeof SeekPosition>;
export const SeekBody = Type.Object({
  position: SeekPosition,
  partition: Type.Optional(Type.Integer({ minimum: 0, description: 'only this partition; every one by default' })),
});

export const RedriveResult = Type.Object(
  {
    redriven: Type.Integer(),
    remaining: Type.Integer(),
    error: Type.Optional(Type.String({ description: 'why the redrive stopped early' })),
  },
  { title: 'RedriveResult' },
);
export type RedriveResult = Type.Static<typeof RedriveResult>;
