import type { Logger } from 'pino';
import type { Datastore } from '../store/datastore.js';
import type { Agent } from './agent.js';
import { minContainersOf } from './warm-settings.js';

const PAGE = 100;

/**
 * At server start, starts the minimum of hot containers of every stored fn that asks for one (`fnts.io/min-containers`),
 * in the background: the minimum holds per server, and survives a restart. A failure is logged; the pools retry.
 */
export async function keepStoredMinimums(store: Datastore, agent: Agent, log: Logger): Promise<number> {
  let kept = 0;
  try {
    for (let appsAfter: string | undefined; ;) {
      const apps = await store.listApps({ limit: PAGE, ...(appsAfter !== undefined ? { after: appsAfter } : {}) });
      for (const app of apps.items) {
        for (let fnsAfter: string | undefined; ;) {
          const fns = await store.listFns(app.id, { limit: PAGE, ...(fnsAfter !== undefined ? { after: fnsAfter } : {}) });
          for (const fn of fns.items) {
            if (minContainersOf(fn.annotations) === 0) continue;
            agent.keepMinimum(app, fn);
            kept++;
          }
          if (fns.nextCursor === undefined) break;
          fnsAfter = fns.nextCursor;
        }
      }
      if (apps.nextCursor === undefined) break;
      appsAfter = apps.nextCursor;
    }
  } catch (err) {
    log.warn({ err }, 'could not start the stored functions\' minimum containers');
  }
  return kept;
}
