import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_API_URL, DEFAULT_CONTEXT, readContext, readCurrentContext } from './context-store.js';
import { cliErrors } from './errors.js';

/** The CLI's settings, resolved once here and passed down: environment > current context > defaults. */
export interface CliSettings {
  apiUrl: string;
  /** Sent as `Authorization: Bearer` on every request (FNTS_API_KEY, else the context's api-key). */
  apiKey?: string;
  /** Where deploy pushes images (`<registry>/<name>:<version>`); none means images stay on the local engine. */
  registry?: string;
  /** The context in effect, and what chose it. */
  context: string;
  contextSource: 'env' | 'config' | 'default';
  /** Holds config.yaml and contexts/ (default `~/.fnts`, env FNTS_HOME). */
  homeDir: string;
  dockerSocketPath: string;
  /** Extra labels for images the CLI builds (tests use them to find and remove their own). */
  imageLabels: Record<string, string>;
}

export interface SettingsOptions {
  /** Overrides FNTS_HOME and `~/.fnts`; tests pass a temp dir. */
  homeDir?: string;
  /**
   * Fall back to the defaults when the selected context is missing or broken, instead of failing. The context
   * commands use it, so `fnts use context default` can repair a config.yaml that names a deleted context.
   */
  lenient?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadSettings(env: Env = process.env, opts: SettingsOptions = {}): CliSettings {
  const homeDir = opts.homeDir ?? (env.FNTS_HOME || join(homedir(), '.fnts'));
  const dockerHost = env.DOCKER_HOST;
  const labels: Record<string, string> = {};
  for (const pair of (env.FNTS_IMAGE_LABELS ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq > 0) labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }

  let context = DEFAULT_CONTEXT;
  let contextSource: CliSettings['contextSource'] = 'default';
  let stored: ReturnType<typeof readContext>;
  try {
    const fromConfig = readCurrentContext(homeDir);
    if (env.FNTS_CONTEXT) [context, contextSource] = [env.FNTS_CONTEXT, 'env'];
    else if (fromConfig) [context, contextSource] = [fromConfig, 'config'];
    stored = readContext(homeDir, context);
    if (!stored) {
      throw cliErrors.contextNotFound(context, contextSource === 'env'
        ? `FNTS_CONTEXT names it; unset FNTS_CONTEXT, or create it with \`fnts create context ${context} --api-url URL\``
        : `config.yaml names it; switch with \`fnts use context ${DEFAULT_CONTEXT}\`, or create it with \`fnts create context ${context} --api-url URL\``);
    }
  } catch (err) {
    if (!opts.lenient) throw err;
    stored = undefined;
  }

  const registry = env.FNTS_REGISTRY !== undefined ? env.FNTS_REGISTRY : stored?.registry;
  const apiUrl = (env.FNTS_API_URL || stored?.['api-url'] || DEFAULT_API_URL).replace(/\/+$/, '');
  // A context's key belongs to the context's server: FNTS_API_URL pointing elsewhere does not get it.
  const apiKey = env.FNTS_API_KEY || (stored && stored['api-url'] === apiUrl ? stored['api-key'] : undefined);
  return {
    apiUrl,
    ...(apiKey ? { apiKey } : {}),
    ...(registry ? { registry: registry.replace(/\/+$/, '') } : {}),
    context,
    contextSource,
    homeDir,
    dockerSocketPath: dockerHost?.startsWith('unix://') ? dockerHost.slice('unix://'.length) : '/var/run/docker.sock',
    imageLabels: labels,
  };
}
