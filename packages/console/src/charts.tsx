// Small SVG charts: each draws at most a few hundred points, which a polyline does with no chart library
// (uPlot, the smallest maintained one, would be most of the bundle).

export interface SparkProps {
  values: readonly (number | null)[];
  label: string;
  /** How the latest value reads under the chart. */
  format?: (v: number) => string;
  kind?: 'line' | 'bars';
  tone?: 'normal' | 'bad';
}

const W = 120;
const H = 32;

/** A chart small enough for a table cell, with its label and latest value as text (readable without the picture). */
export function Spark({ values, label, format = (v) => String(v), kind = 'line', tone = 'normal' }: SparkProps) {
  const nums = values.map((v) => v ?? 0);
  const max = Math.max(1, ...nums);
  // A 3-unit margin keeps the newest point's dot inside the picture.
  const step = values.length > 1 ? (W - 3) / (values.length - 1) : W - 3;
  const y = (v: number) => H - 3 - (v / max) * (H - 6);
  const lastIndex = values.findLastIndex((v) => v !== null);
  const latest = lastIndex >= 0 ? values[lastIndex] : undefined;
  const total = kind === 'bars' ? nums.reduce((a, b) => a + b, 0) : undefined;
  const summary = total !== undefined ? `${format(total)} in the hour` : latest == null ? 'none' : `now ${format(latest)}`;
  return (
    <figure class={`spark ${tone}`} aria-label={`${label}: ${summary}`}>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-hidden="true" preserveAspectRatio="none">
        {kind === 'bars'
          ? nums.map((v, i) => v > 0 && <rect key={i} x={i * (W / nums.length)} y={y(v)} width={Math.max(1, W / nums.length - 0.5)} height={H - 1 - y(v)} />)
          : <>
            {/* Minutes without calls have no duration: the line skips them rather than dropping to zero. */}
            <polyline points={values.flatMap((v, i) => (v === null ? [] : [`${(i * step).toFixed(1)},${y(v).toFixed(1)}`])).join(' ')} />
            {lastIndex >= 0 && <circle cx={lastIndex * step} cy={y(values[lastIndex] ?? 0)} r="2.5" />}
          </>}
      </svg>
      <figcaption>{label}: {summary}</figcaption>
    </figure>
  );
}

export interface Series {
  name: string;
  points: readonly { t: number; v: number }[];
}

const COLORS = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2'];

/** A line chart over time for several series (per-partition lag), with a legend and the latest values as text. */
export function TimeChart({ series, label, unit }: { series: readonly Series[]; label: string; unit: string }) {
  const cw = 480;
  const ch = 120;
  const all = series.flatMap((s) => s.points);
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t), t0 + 1);
  const max = Math.max(1, ...all.map((p) => p.v));
  const x = (t: number) => ((t - t0) / (t1 - t0)) * (cw - 40) + 38;
  const y = (v: number) => ch - 16 - (v / max) * (ch - 24);
  return (
    <figure class="timechart" aria-label={label}>
      <svg viewBox={`0 0 ${cw} ${ch}`} role="img" aria-hidden="true">
        <line x1="38" y1={y(0)} x2={cw} y2={y(0)} class="axis" />
        <text x="34" y={y(max) + 4} class="tick" text-anchor="end">{fmtNum(max)}</text>
        <text x="34" y={y(0) + 4} class="tick" text-anchor="end">0</text>
        {all.length > 0 && <text x={cw - 2} y={ch - 2} class="tick" text-anchor="end">{`last ${Math.round((t1 - t0) / 1000)} s`}</text>}
        {series.map((s, i) => (
          <polyline key={s.name} stroke={COLORS[i % COLORS.length]}
            points={s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')} />
        ))}
      </svg>
      <figcaption>
        {label}:{' '}
        {series.map((s, i) => (
          <span key={s.name} class="legend"><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill={COLORS[i % COLORS.length]} /></svg>{s.name} {fmtNum(s.points[s.points.length - 1]?.v ?? 0)} {unit}</span>
        ))}
      </figcaption>
    </figure>
  );
}

export function fmtNum(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en');
  return v < 10 ? v.toFixed(2) : v.toFixed(1);
}

export function fmtMs(v: number): string {
  return v < 1000 ? `${fmtNum(Math.round(v * 10) / 10)} ms` : `${(v / 1000).toFixed(2)} s`;
}
