import { errors } from '../errors.js';
import type { Datastore } from '../store/datastore.js';
import type { App, Fn, Trigger } from '../store/models.js';
import { TRIGGER_AUTH_ANNOTATION } from './auth.js';

/** What a call runs: the fn and its app, and for an HTTP trigger the trigger and whether it needs a key. */
export interface CallTarget {
  readonly app: App;
  readonly fn: Fn;
  readonly trigger?: Trigger;
  /** The trigger's `fnts.io/auth` rule: anything but absent or "public" needs a key (a typo fails closed). */
  readonly needsKey: boolean;
  /** The record's origin of a trigger's calls, made once. */
  readonly origin?: { readonly triggerId: string };
}

/**
 * `/invoke/{fn_id}` and `/t/{app}/{source}` resolved to what they run, once per version of what they name: a
 * resolution is kept while the store's change stamp holds (any write of an app, fn or trigger, here or on another
 * server sharing the database, moves it), so a hot call does no lookup, no string building and no await. A name
 * that resolves to nothing is not kept: it is looked up again, as before.
 */
export class CallTargets {
  private stamp: number | undefined;
  private readonly byFnId = new Map<string, CallTarget>();
  /** Routes by app name, then by decoded source. */
  private readonly byRoute = new Map<string, Map<string, CallTarget>>();

  constructor(private readonly store: Datastore) {}

  /** The target of `/invoke/{fn_id}` when it is resolved already (undefined: call `resolveFn`). */
  cachedFn(fnId: string): CallTarget | undefined {
    return this.current() ? this.byFnId.get(fnId) : undefined;
  }

  /** The target of an HTTP trigger when it is resolved already (undefined: call `resolveRoute`). */
  cachedRoute(appName: string, source: string): CallTarget | undefined {
    return this.current() ? this.byRoute.get(appName)?.get(source) : undefined;
  }

  /** Looks the fn and its app up; 404 with Fn's texts when either is missing. */
  async resolveFn(fnId: string): Promise<CallTarget> {
    const stamp = this.store.changeStamp;
    const fn = await this.store.getFnById(fnId);
    if (!fn) throw errors.fnNotFound();
    const app = await this.store.getAppById(fn.app_id);
    if (!app) throw errors.appNotFound();
    const target: CallTarget = { app, fn, needsKey: false };
    if (this.keep(stamp)) this.byFnId.set(fnId, target);
    return target;
  }

  /** 404 when no app has this name (what a trigger path answers before it looks at the rest). */
  async requireApp(appName: string): Promise<void> {
    if (!(await this.store.getAppByName(appName))) throw errors.appNotFound();
  }

  /**
   * Looks the app, its trigger on `source` and the trigger's fn up; 404 when any is missing. `checkKey` runs once the
   * trigger is known to need a key, before its fn is looked up.
   */
  async resolveRoute(appName: string, source: string, checkKey: () => void): Promise<CallTarget> {
    const stamp = this.store.changeStamp;
    const app = await this.store.getAppByName(appName);
    if (!app) throw errors.appNotFound();
    const trigger = await this.store.getTriggerBySource(app.id, 'http', source);
    if (!trigger) throw errors.triggerNotFound();
    const rule = trigger.annotations[TRIGGER_AUTH_ANNOTATION];
    const needsKey = rule !== undefined && rule !== 'public';
    if (needsKey) checkKey();
    const fn = await this.store.getFnById(trigger.fn_id);
    if (!fn) throw errors.fnNotFound();
    const target: CallTarget = { app, fn, trigger, needsKey, origin: { triggerId: trigger.id } };
    if (this.keep(stamp)) {
      let routes = this.byRoute.get(appName);
      if (!routes) this.byRoute.set(appName, (routes = new Map()));
      routes.set(source, target);
    }
    return target;
  }

  /** True when what is kept was resolved under the store's current stamp; else drops it all. */
  private current(): boolean {
    const stamp = this.store.changeStamp;
    if (stamp === this.stamp && stamp !== undefined) return true;
    this.drop(stamp);
    return false;
  }

  /** Whether a resolution that started under `stamp` may be kept: nothing changed while it was looked up. */
  private keep(stamp: number | undefined): boolean {
    if (stamp === undefined || stamp !== this.store.changeStamp) return false;
    if (stamp !== this.stamp) this.drop(stamp);
    return true;
  }

  private drop(stamp: number | undefined): void {
    this.stamp = stamp;
    this.byFnId.clear();
    this.byRoute.clear();
  }
}
