/**
 * `@fnts/server/kafka`: the Kafka client seam and the Kafka settings, without the rest of the server (no fastify,
 * SQLite or agent), for tools such as the CLI's `fnts stream put|tail kafka://…`. The native client itself is loaded
 * only when a connection is made.
 */
export { loadKafkaSettings, ConfigError, type KafkaSettings } from './config.js';
export { confluentKafkaClient, KAFKA_CLIENT_INSTALL_HINT, KAFKA_CLIENT_PACKAGE, KafkaClientMissing } from './streams/kafka/confluent.js';
export type { KafkaClient, KafkaLookup, KafkaProducer, KafkaRecord, OutgoingRecord } from './streams/kafka/client.js';
export { headerMap as kafkaHeaderText } from './streams/kafka/headers.js';
export { parseKafkaSource, isKafkaSource, KAFKA_SOURCE_FORM, type KafkaSourceSpec } from './streams/kafka/options.js';
