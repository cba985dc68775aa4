import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppPatch } from './client.js';
import { cliErrors } from './errors.js';
import { yaml } from './yaml-module.js';
import { checkAnnotationsNode, checkConfigNode, configValues, nonEmptyString, pairOf, parseYaml, type Schema } from './yaml-schema.js';

/** app.yaml (CONTRACT §5.1): the app a directory of functions deploys to, with the app's own settings. */
export interface AppFile {
  name?: string;
  config?: Record<string, string>;
  annotations?: Record<string, unknown>;
  syslog_url?: string;
}

const FILE_NAMES = ['app.yaml', 'app.yml'];
const APP_NAME = /^[\p{L}\p{N}_-]+$/u;
const SYSLOG = /^(tcp|udp|unix|unixgram|tcp\+tls):\/\//;

const APP_SCHEMA: Schema = {
  name: {
    check: (v) => (typeof v === 'string' && APP_NAME.test(v) && v.length <= 255
      ? undefined : 'must be letters, digits, "_" or "-" (at most 255)'),
  },
  config: { checkNode: checkConfigNode },
  annotations: { checkNode: checkAnnotationsNode },
  syslog_url: {
    check: (v) => nonEmptyString(v) ?? (SYSLOG.test(v as string) ? undefined : 'must start with tcp://, udp://, unix://, unixgram:// or tcp+tls://'),
  },
};

export function findAppFile(dir: string): string | undefined {
  return FILE_NAMES.map((n) => join(dir, n)).find((p) => existsSync(p));
}

export function parseAppFile(text: string, path: string): AppFile {
  // Fn's app.yaml has exactly these keys; anything else is a typo (or an `x-` key of the user's own).
  const { values, doc } = parseYaml(text, path, APP_SCHEMA, (problems) => cliErrors.appfileInvalid(path, problems), undefined, { ignored: [] });
  const app = values as AppFile;
  const config = yaml().isMap(doc.contents) ? configValues(pairOf(doc.contents, 'config')?.value) : undefined;
  if (config) app.config = config;
  else delete app.config;
  if (app.annotations === null) delete app.annotations;
  return app;
}

/** The directory's app.yaml, if it has one. */
export async function loadAppFile(dir: string): Promise<{ path: string; app: AppFile } | undefined> {
  const path = findAppFile(dir);
  if (!path) return undefined;
  return { path, app: parseAppFile(await readFile(path, 'utf8'), path) };
}

/** The app fields app.yaml sets, as a create or update body (updates merge on the server). */
export function appFileFields(app: AppFile): AppPatch {
  return {
    ...(app.config && Object.keys(app.config).length > 0 ? { config: app.config } : {}),
    ...(app.annotations && Object.keys(app.annotations).length > 0 ? { annotations: app.annotations } : {}),
    ...(app.syslog_url ? { syslog_url: app.syslog_url } : {}),
  };
}
