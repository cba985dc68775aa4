import type { Agent } from '../agent/agent.js';
import type { DetachedCallQueue } from '../calls/detached-queue.js';
import type { CallHistory } from '../calls/history.js';
import type { ServerConfig } from '../config.js';
import type { Datastore } from '../store/datastore.js';
import type { StreamLog } from '../streams/embedded/log.js';
import type { StreamTriggerManager } from '../streams/engine/manager.js';

/** What the route plugins need, injected by buildApp. */
export interface ApiDeps {
  store: Datastore;
  config: ServerConfig;
  agent: Agent;
  /** The embedded streams' log; absent where embedded streams are refused (streams/embedded/open.ts). */
  streamLog: StreamLog | undefined;
  streams: StreamTriggerManager;
  /** Runs detached calls durably. */
  detached: DetachedCallQueue;
  /** Records sync calls and keeps the recent calls of each function. */
  history: CallHistory;
  /** A new 26-character sortable id. */
  newId(): string;
  /** The current time as an RFC 3339 string with milliseconds. */
  now(): string;
}
