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
  const annotations: Annotations = {};
  for (const pair of pairs) {
    const [key, raw] = split(pair, '--annotation');
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: keep the text as it was typed
    }
    annotations[key] = value;
  }
  return annotations;
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

/** Commander's collector for repeatable flags (`--config A=1 --config B=2`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
