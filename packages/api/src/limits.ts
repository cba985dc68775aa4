// The server's limits, in one place: its config defaults and checks use them, and the CLI's help texts and local
// checks quote them, so the two cannot disagree. Dependency-free, so clients import them without the schemas.

const MiB = 1024 * 1024;

/** A call's body by default (FNTS_MAX_REQUEST_BYTES), as Fn's 6 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 6 * MiB;
/** The largest FNTS_MAX_REQUEST_BYTES a server accepts: the most any server may take in one call's body. */
export const MAX_REQUEST_BYTES_CEILING = 1024 * MiB;
/** The body of an API request (apps, fns, triggers; not calls or stream messages). */
export const MAX_API_BODY_BYTES = MiB;
/** One stream message's value (embedded and Kafka). */
export const MAX_STREAM_MESSAGE_BYTES = MiB;
/** The body of one `POST /v2/streams/{name}/messages` request. */
export const MAX_STREAM_PUT_BODY_BYTES = 64 * MiB;

/** The ranges of a function's settings, as the API checks them (memory in MiB, times in seconds). */
export const FN_SETTING_LIMITS = {
  memory: { min: 1, max: 8192, default: 128 },
  timeout: { min: 1, max: 300, default: 30 },
  idle_timeout: { min: 1, max: 3600, default: 30 },
  max_containers: { min: 1, max: 10_000 },
  concurrency: { min: 1, max: 1000 },
} as const;

/** A byte count as people read a limit: `6 MiB`, `512 KiB`, `100 bytes`. */
export function formatByteLimit(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
