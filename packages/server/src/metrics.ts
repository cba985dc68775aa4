import { Counter, Gauge, Registry, collectDefaultMetrics, type CounterConfiguration, type Histogram, type LabelValues } from 'prom-client';

/**
 * The labels of a function's series: its id, and its app's and its own name so that dashboards and alerts read as
 * people name things. The names come from the stored function only (never from a request), so there is one series
 * set per deployed function; prom-client escapes the values in the exposition format.
 */
export interface FnLabels {
  fn_id: string;
  app_name: string;
  fn_name: string;
}

/** The labels of a stored function and its app. */
export function fnLabels(app: { name: string }, fn: { id: string; name: string }): FnLabels {
  return { fn_id: fn.id, app_name: app.name, fn_name: fn.name };
}

const FN = ['fn_id', 'app_name', 'fn_name'] as const;

/** Call outcomes as counted in `fnts_calls_total`. */
export const CALL_OUTCOMES = ['success', 'error', 'timeout', 'killed', 'busy', 'client_gone', 'init_failed'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** Distinct label sets a tally holds before it adds them to its counter anyway (a caller making fresh label objects). */
const TALLY_MAX_SERIES = 1000;

/**
 * A counter for the call path: prom-client hashes and checks the labels on every inc, which at one or two per call
 * showed in the profile. A tally sums increments per label object instead (callers keep one object per series, made
 * once per function version or trigger) and adds them to the counter whenever it is read (its collect hook: a scrape,
 * `get()`), and at once when it holds too many label sets.
 */
export class Tally<L extends string> {
  private readonly pending = new Map<LabelValues<L>, number>();
  readonly counter: Counter<L>;

  constructor(config: CounterConfiguration<L>) {
    this.counter = new Counter<L>({ ...config, collect: () => this.flush() });
  }

  add(labels: LabelValues<L>, n = 1): void {
    this.pending.set(labels, (this.pending.get(labels) ?? 0) + n);
    if (this.pending.size > TALLY_MAX_SERIES) this.flush();
  }

  /** Adds what the tally holds to the counter. */
  private flush(): void {
    for (const [labels, n] of this.pending) this.counter.inc(labels, n);
    this.pending.clear();
  }
}

/** One label set's observations in a {@link CallHistogram}. */
interface HistogramSeries {
  labels: Readonly<Record<string, string>>;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram for the call path, served in prom-client's registry like its own Histogram. prom-client's `observe`
 * copies, checks and hashes the labels on every call (5 µs of a hot call in bench:profile); here a series is found
 * by its label object (callers keep one per function version) and an observation is a few additions. The text is
 * made only when the registry is read.
 */
export class CallHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private byObject = new WeakMap<object, HistogramSeries>();
  private readonly byKey = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // prom-client's registry reads any object with a name and a get(); its types list only its own classes.
    registry.registerMetric(this as unknown as Histogram);
  }

  observe(labels: Readonly<Record<L, string>>, value: number): void {
    let series = this.byObject.get(labels);
    if (!series) {
      series = this.seriesOf(labels);
      this.byObject.set(labels, series);
    }
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    (series.counts[i] as number)++;
    series.sum += value;
    series.count++;
  }

  private seriesOf(labels: Readonly<Record<L, string>>): HistogramSeries {
    const own: Record<string, string> = {};
    for (const name of this.labelNames) own[name] = labels[name];
    const key = JSON.stringify(this.labelNames.map((n) => own[n]));
    let series = this.byKey.get(key);
    if (!series) {
      series = { labels: own, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.byKey.set(key, series);
    }
    return series;
  }

  /** The series in prom-client's form: cumulative buckets with `le`, then the sum and the count. */
  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values = [];
    for (const s of this.byKey.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i] as number;
        values.push({ labels: { le: this.bounds[i] ?? '+Inf', ...s.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.byKey.clear();
    this.byObject = new WeakMap();
  }
}

/** The server's Prometheus metrics, served at `/metrics`. One registry per server so tests can run several. */
export class Metrics {
  readonly registry = new Registry();
  readonly calls = new Tally({
    name: 'fnts_calls_total', help: 'Function calls by function and outcome', labelNames: [...FN, 'outcome'] as const,
    registers: [this.registry],
  });
  readonly callDuration = new CallHistogram(
    'fnts_call_duration_seconds', 'Call duration from request to the end of the response, by function',
    FN, [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], this.registry,
  );
  readonly coldStarts = new Counter({
    name: 'fnts_cold_starts_total', help: 'Containers started, by function', labelNames: FN,
    registers: [this.registry],
  });
  readonly prestarts = new Counter({
    name: 'fnts_prestarts_total',
    help: 'Containers started with no call waiting, by function, reason (deploy, minimum) and outcome (started, failed, skipped)',
    labelNames: [...FN, 'reason', 'outcome'] as const, registers: [this.registry],
  });
  readonly warmUpCalls = new Counter({
    name: 'fnts_warmup_calls_total',
    help: 'Warm-up calls sent to containers started ahead of calls (never the function\'s own handler), by function',
    labelNames: [...FN] as const, registers: [this.registry],
  });
  readonly stemClaims = new Counter({
    name: 'fnts_stem_claims_total',
    help: 'Cold starts of typescript/node functions, by function and how they started (claimed: a stem cell; new_container: docker run)',
    labelNames: [...FN, 'outcome'] as const, registers: [this.registry],
  });
  readonly stemCellsReady = new Gauge({
    name: 'fnts_stem_cells_ready', help: 'Stem cells started and waiting to be claimed by a cold start', registers: [this.registry],
  });
  readonly containers = new Gauge({
    name: 'fnts_containers', help: 'Live function containers by state (busy, idle, paused, starting)',
    labelNames: ['state'] as const, registers: [this.registry],
  });
  readonly fnContainers = new Gauge({
    name: 'fnts_fn_containers', help: 'Live containers of each function by state (busy, idle, paused), starting ones not counted',
    labelNames: [...FN, 'state'] as const, registers: [this.registry],
  });
  readonly queueLength = new Gauge({
    name: 'fnts_queue_length', help: 'Calls waiting for a container, by function', labelNames: FN,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'fnts_rejected_calls_total', help: 'Calls answered 503 because the server was too busy, by function',
    labelNames: FN, registers: [this.registry],
  });
  readonly outputSuppressed = new Counter({
    name: 'fnts_output_lines_suppressed_total',
    help: 'Function output lines left out of the server log because a container passed its rate, by function',
    labelNames: FN, registers: [this.registry],
  });
  readonly memoryReserved = new Gauge({
    name: 'fnts_memory_reserved_mib', help: 'Memory reserved by live containers, in MiB', registers: [this.registry],
  });
  readonly memoryBudget = new Gauge({
    name: 'fnts_memory_budget_mib', help: 'Memory all containers together may reserve (FNTS_MAX_TOTAL_MEMORY_MIB), in MiB',
    registers: [this.registry],
  });

  readonly streamLagRecords = new Gauge({
    name: 'fnts_stream_lag_records', help: 'Records not yet processed, by stream trigger and partition',
    labelNames: ['app_id', ...FN, 'trigger_id', 'partition'] as const, registers: [this.registry],
  });
  readonly streamLagSeconds = new Gauge({
    name: 'fnts_stream_lag_seconds', help: 'Age of the oldest unprocessed record, by stream trigger and partition',
    labelNames: ['app_id', ...FN, 'trigger_id', 'partition'] as const, registers: [this.registry],
  });
  readonly streamBatches = new Tally({
    name: 'fnts_stream_batches_total', help: 'Stream trigger batches by outcome (ok, partial, failed, throttled, dead_lettered, fenced)',
    labelNames: ['app_id', ...FN, 'trigger_id', 'outcome'] as const, registers: [this.registry],
  });
  readonly streamRecords = new Tally({
    name: 'fnts_stream_records_total', help: 'Stream records by outcome (ok, dead_lettered, filtered)',
    labelNames: ['app_id', ...FN, 'trigger_id', 'outcome'] as const, registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'fnts_process_' });
  }
}
