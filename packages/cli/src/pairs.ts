import type { Annotations, ConfigMap } from './client.js';
import { cliErrors } from './errors.js';

function split(pair: string, flag: string): [string, string] {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw cliErrors.usage(`${flag} "${pair}" must look like KEY=VALUE`, `for example ${flag} LOG_LEVEL=debug`);
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}

/** `--config K=V` values as a config map; the value is everything after the first `=`. */
export function parseConfigPairs(pairs: readonly string[] = [], flag = '--config'): ConfigMap {
  const config: ConfigMap = {};
  for (const pair of pairs) {
    const [key, value] = split(pair, flag);
    config[key] = value;
  }
  return config;
}

/**
 * `--annotation K=V` values. Fn's CLI requires V to be JSON (`k='"text"'`); fnts takes V as JSON when it parses
 * (`k=42`, `k={"a":1}`, `k='"text"'`) and as a plain string otherwise (`k=text`).
 */
export function parseAnnotationPairs(pairs: readonly string[] = []): Annotations {
  return parseJsonPairs(pairs, '--annotation');
}

/** `K=V` values where V is JSON when it parses (`n=3`, `b=true`, `o={"a":1}`) and text otherwise (`s=latest`). */
export function parseJsonPairs(pairs: readonly string[] = [], flag: string): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const pair of pairs) {
    const [key, raw] = split(pair, flag);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: keep the text as it was typed
    }
    values[key] = value;
  }
  return values;
}

/** Parses an integer flag (`--memory 256`), so a typo fails here instead of as a server 400. */
export function parseIntFlag(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw cliErrors.usage(`${flag} "${value}" is not a whole number`, `for example ${flag} 30`);
    }
    return n;
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A duration flag (`--retention 7d`): milliseconds as a bare number, or a number with ms, s, m, h, d or w. */
export function parseDurationFlag(flag: string): (value: string) => number {
  return (value) => {
    const m = /^\s*(\d+)\s*(ms|s|m|h|d|w)?\s*$/.exec(value);
    const n = m ? Number(m[1]) * (DURATION_UNITS[m[2] ?? 'ms'] ?? 1) : NaN;
    if (!Number.isSafeInteger(n)) {
      throw cliErrors.usage(`${flag} "${value}" is not a duration`, `use milliseconds or a number with a unit: ${flag} 7d, 12h, 30m, 90s or 86400000`);
    }
    return n;
  };
}

/** Milliseconds in the largest unit that divides them: 604800000 → `7d`, 5400000 → `90m`, 1500 → `1500ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit] as number;
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Commander's collector for repeatable flags (`--config A=1 --config B=2`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
