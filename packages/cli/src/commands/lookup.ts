import type { ApiClient, App, Fn, Trigger } from '../client.js';
import { ApiError, cliErrors } from '../errors.js';

/** Resolving the names people type into server objects, with a hint when one is missing. */

export async function requireApp(client: ApiClient, name: string): Promise<App> {
  const app = await client.findApp(name);
  if (!app) throw cliErrors.notFound(`app "${name}"`, `see the apps with \`fnts list apps\`, or create it with \`fnts create app ${name}\``);
  return app;
}

export async function requireFn(client: ApiClient, app: App, name: string): Promise<Fn> {
  const fn = await client.findFn(app.id, name);
  if (!fn) {
    throw cliErrors.notFound(`function "${name}" in app "${app.name}"`,
      `see the app's functions with \`fnts list fns ${app.name}\`, or deploy it with \`fnts deploy --app ${app.name}\``);
  }
  return fn;
}

export async function requireTrigger(client: ApiClient, app: App, fn: Fn, name: string): Promise<Trigger> {
  const trigger = await client.findTrigger(app.id, fn.id, name);
  if (!trigger) {
    throw cliErrors.notFound(`trigger "${name}" on function "${fn.name}" in app "${app.name}"`,
      `see its triggers with \`fnts list triggers ${app.name} ${fn.name}\``);
  }
  return trigger;
}

/** A hint for an API error status: fixed text, or chosen from the server's message. */
export type Hint = string | ((err: ApiError) => string | undefined);

/** Runs an API call and, when it fails with one of the given statuses, adds that status's hint to the error. */
export async function withHints<T>(call: Promise<T>, hints: Partial<Record<number, Hint>>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (!(err instanceof ApiError) || err.hint) throw err;
    const rule = hints[err.status];
    const hint = typeof rule === 'function' ? rule(err) : rule;
    throw hint ? err.withHint(hint) : err;
  }
}
