import {
  ApiClient, type App, type Fn, type PartitionStatus, type RedriveResult, type SeekPosition, type Trigger, type TriggerStatus,
} from '../../client.js';
import { cliErrors } from '../../errors.js';
import { formatTable, type Column } from '../../table.js';
import type { CommandContext } from '../command-context.js';
import { requireApp, requireFn, requireTrigger, withHints, type Hint } from '../lookup.js';
import { outputFormat, type ReadOptions } from '../print.js';

/**
 * `fnts trigger status|pause|resume|seek|redrive APP FN NAME` (STREAMS.md §11, §14): the control plane of stream
 * triggers, on `/v2/triggers/{id}/…`.
 */

export interface TriggerRef {
  app: string;
  fn: string;
  name: string;
}

interface Resolved {
  client: ApiClient;
  app: App;
  fn: Fn;
  trigger: Trigger;
  /** `APP FN NAME`, as the user typed it into commands. */
  ref: string;
}

async function resolve(opts: TriggerRef, ctx: CommandContext): Promise<Resolved> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const trigger = await requireTrigger(client, app, fn, opts.name);
  if (trigger.type !== 'stream') throw cliErrors.notStreamTrigger(app.name, trigger.name, trigger.type);
  return { client, app, fn, trigger, ref: `${app.name} ${fn.name} ${trigger.name}` };
}

/** The answers every control call may give: a trigger whose stream is gone does not run (409). */
function controlHints(r: Resolved, conflict?: string): Partial<Record<number, Hint>> {
  return {
    409: (err) => (err.code === 'FNTS_ERR_STREAM_TRIGGER_NOT_RUNNING'
      ? `create the stream again with \`fnts create stream ${r.trigger.source}\`, or delete the trigger with \`fnts delete trigger ${r.ref}\``
      : conflict),
  };
}

/** `IDLE`, `RUNNING`, `RETRYING(attempt 3)`, `RETRYING(throttled)`, `PAUSED`, `BLOCKED`, … */
function stateText(s: PartitionStatus): string {
  const { kind } = s.state;
  if (kind === 'RETRYING') return s.state.throttled === true ? 'RETRYING(throttled)' : `RETRYING(attempt ${String(s.state.attempt)})`;
  return kind;
}

/** The last error of a partition on one line, cut to fit a table; `--output json` has it whole. */
function lastError(s: PartitionStatus): string {
  const raw = s.last_error ?? (s.state.lastError as string | undefined) ?? (s.state.reason as string | undefined) ?? '';
  const line = raw.replace(/\s+/g, ' ').trim();
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

const STATUS_COLUMNS: readonly Column<PartitionStatus>[] = [
  { heading: 'PARTITION', cell: (s) => String(s.partition) },
  { heading: 'COMMITTED', cell: (s) => String(s.committed) },
  { heading: 'END', cell: (s) => String(s.end) },
  { heading: 'LAG', cell: (s) => String(s.lag_records) },
  { heading: 'LAG_SECONDS', cell: (s) => String(Math.round(s.lag_seconds * 10) / 10) },
  { heading: 'STATE', cell: (s) => stateText(s) },
  { heading: 'LAST_ERROR', cell: (s) => lastError(s) },
];

/** Servers sharing a PostgreSQL store: which one holds each partition's lease, after the state. */
const OWNER_COLUMN: Column<PartitionStatus> = { heading: 'OWNER', cell: (s) => s.owner ?? '-' };

/**
 * `fnts trigger status APP FN NAME`: a line about the trigger (source, paused, dead letters), then a table per
 * partition: committed offset, end offset, lag in records and seconds, state, the server holding the partition (servers
 * sharing PostgreSQL), last error. `--output json` prints
 * the server's status as it is.
 */
export async function triggerStatusCommand(opts: TriggerRef & ReadOptions, ctx: CommandContext): Promise<TriggerStatus> {
  const json = outputFormat(opts.output) === 'json';
  const r = await resolve(opts, ctx);
  const status = await withHints(r.client.triggerStatus(r.trigger.id), controlHints(r));
  if (json) {
    ctx.output.out(`${JSON.stringify(status, null, 2)}\n`);
    return status;
  }
  const dead = status.partitions.reduce((n, p) => n + p.dead_lettered, 0);
  const lettersTo = status.dead_letter_stream ? ` in ${status.dead_letter_stream}` : '';
  ctx.output.out(`${r.ref}: ${status.source.type} ${status.source.stream}, ${status.paused ? 'paused' : 'running'}, `
    + `${dead} dead-lettered${lettersTo}\n`);
  const owned = status.partitions.some((p) => p.owner !== undefined);
  const columns = owned ? [...STATUS_COLUMNS.slice(0, -1), OWNER_COLUMN, ...STATUS_COLUMNS.slice(-1)] : STATUS_COLUMNS;
  ctx.output.out(formatTable(columns, status.partitions));
  return status;
}

export async function pauseTriggerCommand(opts: TriggerRef, ctx: CommandContext): Promise<TriggerStatus> {
  const r = await resolve(opts, ctx);
  const status = await withHints(r.client.pauseTrigger(r.trigger.id), controlHints(r));
  ctx.output.out(`${r.ref} paused\n`);
  return status;
}

export async function resumeTriggerCommand(opts: TriggerRef, ctx: CommandContext): Promise<TriggerStatus> {
  const r = await resolve(opts, ctx);
  const status = await withHints(r.client.resumeTrigger(r.trigger.id), controlHints(r));
  ctx.output.out(`${r.ref} resumed\n`);
  return status;
}

export interface SeekOptions extends TriggerRef {
  /** `earliest`, `latest`, an ISO 8601 time, or milliseconds since 1970. */
  to?: string;
  /** `PARTITION:OFFSET` entries from `--offset`. */
  offset?: string[];
  /** Seek only this partition (with --to). */
  partition?: number;
}

/** The seek position the flags describe: exactly one of --to and --offset. */
export function seekPosition(opts: Pick<SeekOptions, 'to' | 'offset' | 'partition'>): SeekPosition {
  const example = 'for example --to earliest, --to 2026-01-31T12:00:00Z, --to 1767225600000 or --offset 0:120';
  const offsets = opts.offset ?? [];
  if ((opts.to === undefined) === (offsets.length === 0)) throw cliErrors.usage('seek needs one of --to and --offset', example);
  if (offsets.length > 0) {
    if (opts.partition !== undefined) {
      throw cliErrors.usage('--partition goes with --to; each --offset names its own partition', 'for example --offset 0:120 --offset 1:98');
    }
    const out: Record<string, number> = {};
    for (const entry of offsets) {
      const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(entry);
      if (!m) throw cliErrors.usage(`--offset "${entry}" must look like PARTITION:OFFSET`, 'for example --offset 0:120');
      out[String(Number(m[1]))] = Number(m[2]);
    }
    return { offsets: out };
  }
  const to = (opts.to as string).trim();
  if (to === 'earliest' || to === 'latest') return to;
  if (/^\d+$/.test(to)) return { timestamp: Number(to) };
  const ms = Date.parse(to);
  if (Number.isNaN(ms)) throw cliErrors.usage(`--to "${to}" is not earliest, latest, a time or milliseconds`, example);
  return { timestamp: ms };
}

function describePosition(p: SeekPosition): string {
  if (typeof p === 'string') return p;
  if ('timestamp' in p) return new Date(p.timestamp).toISOString();
  return 'the given offsets';
}

/**
 * `fnts trigger seek APP FN NAME --to …|--offset P:N…`: moves a paused trigger's read position (all partitions, or
 * --partition P; with --offset, the partitions named); prints where each moved partition now starts. The server
 * refuses a running trigger (409).
 */
export async function seekTriggerCommand(opts: SeekOptions, ctx: CommandContext): Promise<TriggerStatus> {
  const position = seekPosition(opts);
  const r = await resolve(opts, ctx);
  const hints = controlHints(r, `pause it first: \`fnts trigger pause ${r.ref}\`, then seek, then \`fnts trigger resume ${r.ref}\``);
  // The API moves partitions an offsets position leaves out to their start; --offset moves only the partitions it names.
  const calls: [SeekPosition, number | undefined][] = typeof position === 'object' && 'offsets' in position
    ? Object.entries(position.offsets).map(([p, n]) => [{ offsets: { [p]: n } }, Number(p)])
    : [[position, opts.partition]];
  let status: TriggerStatus | undefined;
  for (const [where, partition] of calls) status = await withHints(r.client.seekTrigger(r.trigger.id, where, partition), hints);
  const moved = new Set(calls.map(([, p]) => p));
  const at = (status as TriggerStatus).partitions.filter((p) => moved.has(undefined) || moved.has(p.partition))
    .map((p) => `partition ${p.partition} at offset ${p.committed}`).join(', ');
  ctx.output.out(`${r.ref} moved to ${describePosition(position)}: ${at}\n`);
  if (status?.paused) ctx.output.info(`It is still paused; \`fnts trigger resume ${r.ref}\` delivers from there\n`);
  return status as TriggerStatus;
}

/**
 * `fnts trigger redrive APP FN NAME`: sends the trigger's dead letters back to its function, in order; prints
 * `redriven N, remaining M`, and the error that stopped it, if any (the caller then exits with 1).
 */
export async function redriveTriggerCommand(opts: TriggerRef & ReadOptions, ctx: CommandContext): Promise<RedriveResult> {
  const json = outputFormat(opts.output) === 'json';
  const r = await resolve(opts, ctx);
  const result = await withHints(r.client.redriveTrigger(r.trigger.id), controlHints(r));
  if (json) ctx.output.out(`${JSON.stringify(result)}\n`);
  else ctx.output.out(`redriven ${result.redriven}, remaining ${result.remaining}\n`);
  if (result.error) {
    ctx.output.info(`Redrive stopped: ${result.error}\n`
      + `The remaining dead letters stay; fix the function (\`fnts logs ${r.app.name} ${r.fn.name}\`) and redrive again\n`);
  }
  return result;
}
