import type { Logger } from 'pino';
import { resolveStartOffsets, type StartPosition } from '../engine/source.js';
import { watermarkBounds, type KafkaClient } from './client.js';
import type { KafkaSourceSpec } from './options.js';

/**
 * A new trigger's start position, resolved now and committed for the group (STREAMS.md §10) so that `latest` skips
 * nothing written while the trigger is being created. A group that has committed offsets already keeps them (a trigger
 * re-created with the same group_id resumes). Returns the offsets the group starts from.
 */
export async function initializeKafkaGroup(
  client: KafkaClient,
  spec: KafkaSourceSpec,
  groupId: string,
  position: StartPosition,
  deadLetterTopic: string,
  log: Logger,
): Promise<{ start: Map<number, number>; resumed: number[] }> {
  const lookup = await client.lookup(groupId);
  try {
    const partitions = await lookup.partitions(spec.topic);
    if (!partitions) throw new KafkaTopicMissing(spec.topic);
    const committed = await lookup.committed(spec.topic, partitions);
    const missing = partitions.filter((p) => !committed.has(p));
    const start = new Map(committed);
    if (missing.length > 0) {
      const marks = await lookup.watermarks(spec.topic, missing);
      const bounds = watermarkBounds(marks, missing);
      const byTime = typeof position === 'object' && 'timestamp' in position
        ? await lookup.offsetsForTime(spec.topic, missing, position.timestamp)
        : undefined;
      const offsets = resolveStartOffsets(position, bounds, byTime);
      for (const [p, o] of offsets) start.set(p, o);
      await lookup.commitAsOutsider(spec.topic, offsets);
    }
    if (!(await lookup.partitions(deadLetterTopic))) {
      await lookup.createTopic(deadLetterTopic, 1).catch((err: unknown) => {
        log.warn({ err, topic: deadLetterTopic }, 'could not create the dead-letter topic; create it, or dead letters will block their partition');
      });
    }
    return { start, resumed: [...committed.keys()] };
  } finally {
    await lookup.close().catch(() => undefined);
  }
}

export class KafkaTopicMissing extends Error {
  constructor(readonly topic: string) {
    super(`Kafka topic "${topic}" does not exist`);
  }
}
