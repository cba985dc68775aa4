import { DLQ_GROUP_ID, DLQ_PREFIX, type DeadLetterLog } from '../engine/dead-letters.js';
import type { DeadLetterRecord } from '../engine/source.js';
import { watermarkBounds, type KafkaLookup, type OutgoingRecord } from './client.js';
import { toSourceRecord, type KafkaSourceRecord } from './headers.js';

/**
 * Dead letters as Kafka records: the record's key, value and header bytes (its own fnts.dlq.* ones replaced), the
 * fnts.dlq.* headers, and the group whose letter it is (a dead-letter topic may serve several triggers; servers share
 * a group).
 */
export function deadLetterRecords(letters: DeadLetterRecord[], groupId: string): OutgoingRecord[] {
  return letters.map((l) => {
    const raw = (l.record as Partial<KafkaSourceRecord>).rawHeaders
      ?? Object.entries(l.record.headers).map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer]);
    return {
      key: l.record.key,
      value: l.record.value,
      headers: [...raw.filter(([name]) => !name.startsWith(DLQ_PREFIX)), ...Object.entries(l.headers), [DLQ_GROUP_ID, groupId]],
    };
  });
}

/**
 * A dead-letter topic as the redrive loop reads it: the group's letters; progress is the committed offsets of the
 * lookup's group (`<group_id>.redrive`, memberless), so a later redrive on any server of the group goes on from there.
 */
export function kafkaDeadLetterLog(lookup: KafkaLookup, topic: string, groupId: string): DeadLetterLog {
  let partitions: number[] = [];
  return {
    label: `dead-letter topic "${topic}"`,
    bounds: async () => {
      const found = await lookup.partitions(topic);
      if (!found) return undefined;
      partitions = found;
      return watermarkBounds(await lookup.watermarks(topic, found), found);
    },
    progress: () => lookup.committed(topic, partitions),
    read: async (partition, offset, max) => (await lookup.read(topic, partition, offset, max)).map(toSourceRecord),
    saveProgress: (partition, offset) => lookup.commitAsOutsider(topic, new Map([[partition, offset]])),
    mine: (letter) => letter.headers[DLQ_GROUP_ID] === groupId,
  };
}
