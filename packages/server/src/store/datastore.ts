import type { App, Fn, ListOptions, Page, Trigger } from './models.js';

/** The one storage interface; SQLite implements it. Every method is synchronous-safe but async for other backends. */
export interface Datastore {
  insertApp(app: App): Promise<App>;
  updateApp(app: App): Promise<App>;
  getAppById(id: string): Promise<App | undefined>;
  getAppByName(name: string): Promise<App | undefined>;
  listApps(opts: ListOptions): Promise<Page<App>>;
  deleteApp(id: string): Promise<boolean>;

  insertFn(fn: Fn): Promise<Fn>;
  updateFn(fn: Fn): Promise<Fn>;
  getFnById(id: string): Promise<Fn | undefined>;
  getFnByName(appId: string, name: string): Promise<Fn | undefined>;
  listFns(appId: string, opts: ListOptions): Promise<Page<Fn>>;
  deleteFn(id: string): Promise<boolean>;

  insertTrigger(trigger: Trigger): Promise<Trigger>;
  updateTrigger(trigger: Trigger): Promise<Trigger>;
  getTriggerById(id: string): Promise<Trigger | undefined>;
  getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger | undefined>;
  listTriggers(appId: string, opts: ListOptions & { fnId?: string }): Promise<Page<Trigger>>;
  deleteTrigger(id: string): Promise<boolean>;
  /** Every trigger of one type across apps (the stream engine loads its triggers at start). */
  listTriggersByType(type: string): Promise<Trigger[]>;

  /** Server-wide facts that must survive restarts (e.g. the server id that labels its containers). */
  getMeta(key: string): Promise<string | undefined>;
  /** Stores `value` unless the key exists; returns what is stored. */
  setMetaIfAbsent(key: string, value: string): Promise<string>;

  close(): Promise<void>;
}

/** Thrown by a store when a unique constraint would be broken; the API maps it to a 409. */
export class UniqueViolation extends Error {
  constructor(readonly entity: 'app' | 'fn' | 'trigger', readonly field: string) {
    super(`${entity} ${field} already exists`);
    this.name = 'UniqueViolation';
  }
}
