import type { Trigger } from '../../store/models.js';
import { filterProblems, type RecordFilter } from './filter.js';
import type { StartPosition } from './source.js';

export type ValueEncoding = 'base64' | 'utf8' | 'json';

/** A stream trigger's options, resolved: every default filled in (snake_case, as stored and shown). */
export interface StreamTriggerOptions {
  batch_size: number;
  max_batch_bytes: number;
  max_wait_ms: number;
  start_position: StartPosition;
  max_attempts: number;
  backoff_initial_ms: number;
  backoff_max_ms: number;
  bisect_on_error: boolean;
  dead_letter_stream: string;
  /** Records older than this go to the dead-letter stream without a call; 0 is off. */
  max_record_age_ms: number;
  /** Batches in flight across the trigger's partitions. */
  max_concurrency: number;
  value_encoding: ValueEncoding;
  paused: boolean;
  /** Only records that match are sent; the others are committed and counted (STREAMS.md §13). */
  filter?: RecordFilter;
}

/** A stream trigger's options as stored: compiled (compileOptions) before every write, so they are resolved. */
export function storedStreamOptions(t: Pick<Trigger, 'options'>): StreamTriggerOptions | undefined {
  // The store keeps options as a JSON object of any shape; the trigger API writes only compiled ones for streams.
  return t.options as StreamTriggerOptions | undefined;
}

export class OptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stream trigger options: ${problems.join('; ')}`);
    this.name = 'OptionsError';
  }
}

const INT_RANGES = {
  batch_size: [1, 10_000],
  max_wait_ms: [0, 300_000],
  max_attempts: [1, 1000],
  backoff_initial_ms: [1, 3_600_000],
  backoff_max_ms: [1, 86_400_000],
  max_record_age_ms: [0, 365 * 86_400_000],
  max_concurrency: [1, 1000],
} as const;

function checkPosition(v: unknown): string | undefined {
  if (v === 'earliest' || v === 'latest') return undefined;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && Number.isInteger(o.timestamp)) return undefined;
    if (Object.keys(o).length === 1 && o.offsets && typeof o.offsets === 'object'
      && Object.entries(o.offsets).every(([k, n]) => /^\d+$/.test(k) && Number.isInteger(n) && (n as number) >= 0)) {
      return undefined;
    }
  }
  return 'options.start_position must be "earliest", "latest", {"timestamp": <ms>} or {"offsets": {"<partition>": <offset>}}';
}

/**
 * Compiles raw options (from the API or func.yaml) over the current ones: every problem is collected,
 * then defaults fill the gaps. `maxBatchBytes` is the invoke body limit, which a batch must fit in.
 */
export function compileOptions(
  raw: Record<string, unknown> | undefined,
  base: StreamTriggerOptions | undefined,
  defaults: { deadLetterStream: string; maxBatchBytes: number },
): StreamTriggerOptions {
  const problems: string[] = [];
  const out: StreamTriggerOptions = base ?? {
    batch_size: 100,
    max_batch_bytes: Math.min(1024 * 1024, defaults.maxBatchBytes),
    max_wait_ms: 0,
    start_position: 'latest',
    max_attempts: 10,
    backoff_initial_ms: 1000,
    backoff_max_ms: 300_000,
    bisect_on_error: true,
    dead_letter_stream: defaults.deadLetterStream,
    max_record_age_ms: 0,
    max_concurrency: 10,
    value_encoding: 'base64',
    paused: false,
  };
  const next: StreamTriggerOptions = { ...out };
  const target = next as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (key in INT_RANGES) {
      const [min, max] = INT_RANGES[key as keyof typeof INT_RANGES];
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
        problems.push(`options.${key} must be an integer from ${min} to ${max}`);
      } else target[key] = value;
    } else if (key === 'max_batch_bytes') {
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > defaults.maxBatchBytes) {
        problems.push(`options.max_batch_bytes must be an integer from 1 to ${defaults.maxBatchBytes} (the invoke body limit)`);
      } else next.max_batch_bytes = value as number;
    } else if (key === 'bisect_on_error' || key === 'paused') {
      if (typeof value !== 'boolean') problems.push(`options.${key} must be true or false`);
      else next[key] = value;
    } else if (key === 'value_encoding') {
      if (value !== 'base64' && value !== 'utf8' && value !== 'json') problems.push('options.value_encoding must be base64, utf8 or json');
      else next.value_encoding = value;
    } else if (key === 'dead_letter_stream') {
      if (typeof value !== 'string' || !/^[\p{L}\p{N}_.-]{1,255}$/u.test(value)) {
        problems.push('options.dead_letter_stream must be a stream name (letters, digits, "_", "-", ".")');
      } else next.dead_letter_stream = value;
    } else if (key === 'filter') {
      if (value === null) delete next.filter;
      else {
        const found = filterProblems(value);
        if (found.length > 0) problems.push(...found);
        else next.filter = value as RecordFilter;
      }
    } else if (key === 'start_position') {
      const problem = checkPosition(value);
      if (problem) problems.push(problem);
      else next.start_position = value as StartPosition;
    } else {
      problems.push(`options.${key} is not a stream trigger option`);
    }
  }
  if (next.backoff_max_ms < next.backoff_initial_ms) problems.push('options.backoff_max_ms must be at least options.backoff_initial_ms');
  if (problems.length > 0) throw new OptionsError(problems);
  return next;
}

/** Exponential backoff with full jitter: a random wait up to initial × 2^(attempt−1), capped. */
export function backoffMs(opts: Pick<StreamTriggerOptions, 'backoff_initial_ms' | 'backoff_max_ms'>, attempt: number, random = Math.random): number {
  const ceiling = Math.min(opts.backoff_max_ms, opts.backoff_initial_ms * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
