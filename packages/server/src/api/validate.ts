import { FN_SETTING_LIMITS } from '@fnts/api/limits';
import { errors } from '../errors.js';
import type { Annotations, ConfigMap } from '../store/models.js';
import { configKeyProblem } from '../agent/platform-env.js';

/** Resource validation with Fn's exact messages (CONTRACT §4.3). */

const NAME_RE = /^[\p{L}\p{N}_-]+$/u;
const ANNOTATION_KEY_RE = /^[!-~]+$/;

export function checkAppName(name: string | undefined): string {
  if (!name) throw errors.validation('Missing Name');
  if (name.length > 255) throw errors.validation('App name must be 255 characters or less');
  if (!NAME_RE.test(name)) throw errors.validation('Invalid app name');
  return name;
}

export function checkTriggerName(name: string | undefined): string {
  if (!name) throw errors.validation('Missing name on Trigger');
  if (name.length > 255) throw errors.validation('Trigger name must be 255 characters or less');
  if (!NAME_RE.test(name)) throw errors.validation('Invalid name for Trigger');
  return name;
}

/** Trigger types this server runs. */
export const TRIGGER_TYPES = ['http', 'stream'];

export function checkTriggerSource(source: string | undefined): string {
  if (!source) throw errors.validation('Missing Trigger Source');
  if (!source.startsWith('/')) throw errors.validation("Missing Trigger Source Prefix '/'");
  return source;
}

/** A stream trigger's source: an embedded stream's name (or a kafka:// URL). */
export function checkStreamSource(source: string | undefined): string {
  if (!source) throw errors.validation('Missing Trigger Source');
  return source;
}

export function checkFnName(name: string | undefined): string {
  if (!name) throw errors.validation('Missing Fn name');
  if (name.length > 255) throw errors.validation('Fn name must be 255 characters or less');
  // Fn requires the name to survive URL path escaping unchanged.
  if (encodeURIComponent(name) !== name) throw errors.validation('name must be a valid string');
  return name;
}

export type RangedField = 'memory' | 'timeout' | 'idle_timeout' | 'max_containers' | 'concurrency';

export function checkRange(field: RangedField, value: number): number {
  const { min, max } = FN_SETTING_LIMITS[field];
  if (value >= min && value <= max) return value;
  if (field === 'memory') throw errors.validation(`memory value is out of range. It should be between 0 and ${max}`);
  if (field === 'max_containers' || field === 'concurrency') {
    throw errors.validation(`${field} value is out of range, must be between 1 and ${max}`);
  }
  throw errors.validation(`${field} value is out of range, must be between 0 and ${max}`);
}

const SYSLOG_SCHEMES = ['tcp', 'udp', 'unix', 'unixgram', 'tcp+tls'];

export function checkSyslogUrl(url: string): string {
  let scheme = '';
  try {
    scheme = new URL(url).protocol.replace(/:$/, '');
  } catch {
    // an unparsable URL has no valid scheme either
  }
  if (!SYSLOG_SCHEMES.includes(scheme)) {
    throw errors.validation(
      `invalid syslog url: ${JSON.stringify(url)} invalid scheme, only [tcp, udp, unix, unixgram, tcp+tls] are supported`,
    );
  }
  return url;
}

/** Applies a config patch: `""` and `null` delete a key, other values set it; keys must be valid env names. */
export function mergeConfig(base: ConfigMap, patch: Record<string, string | null> | undefined): ConfigMap {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (v === '' || v === null) {
      delete out[k];
      continue;
    }
    const problem = configKeyProblem(k);
    if (problem) throw errors.validation(problem);
    if (v.includes('\0')) throw errors.validation(`config value of ${k} may not contain NUL`);
    out[k] = v;
  }
  return out;
}

// Docker's image reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest].
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?`;
const PATH_COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = String.raw`[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`;
const IMAGE_RE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::${TAG})?(?:@${DIGEST})?$`);

/** An image reference Docker accepts, checked where it is written (a bad one would only fail at the first call). */
export function checkImage(image: string): string {
  const m = IMAGE_RE.exec(image);
  const nameLength = m ? (m[1] ? m[1].length + 1 : 0) + (m[2]?.length ?? 0) : 0;
  if (!m || nameLength > 255) {
    throw errors.validation(
      `invalid image ${JSON.stringify(image.length > 300 ? `${image.slice(0, 300)}…` : image)}: use Docker's reference form [registry[:port]/]name[:tag][@digest], lowercase name, e.g. hello:0.0.2`,
    );
  }
  return image;
}

/** Applies an annotations patch with Fn's rules; on create an empty value is an error, on update it deletes. */
export function mergeAnnotations(base: Annotations, patch: Annotations | undefined, creating: boolean): Annotations {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (!ANNOTATION_KEY_RE.test(k)) {
      throw errors.validation('Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace');
    }
    if (Buffer.byteLength(k) > 128) {
      throw errors.validation('Invalid annotation key length, annotation keys may not be larger than 128 bytes');
    }
    const empty = v === '' || v === null;
    if (empty && !creating) {
      delete out[k];
      continue;
    }
    if (empty || typeof v === 'boolean') {
      throw errors.validation('Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays');
    }
    if (Buffer.byteLength(JSON.stringify(v)) > 512) {
      throw errors.validation('Invalid annotation value length, annotation values may not be larger than 512 bytes when serialized as JSON');
    }
    out[k] = v;
  }
  if (Object.keys(out).length > 100) {
    throw errors.validation('Invalid annotation change, new key(s) exceed maximum permitted number of annotations keys (100)');
  }
  return out;
}
