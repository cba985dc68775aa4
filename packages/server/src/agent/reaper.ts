import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { DockerDriver } from './docker.js';
import { unmountLeftovers } from './iofs.js';

/**
 * Removes what a previous run of this server left behind after a crash: its labelled containers and its
 * socket dirs. Only this server's own (by its persistent id), so servers sharing a Docker engine are safe.
 */
export async function reapLeftovers(driver: DockerDriver, labels: Record<string, string>, iofsDir: string, log: Logger): Promise<number> {
  const ids = await driver.listByLabels(labels);
  await Promise.all(ids.map((id) => driver.remove(id)));
  await unmountLeftovers(iofsDir);
  await rm(iofsDir, { recursive: true, force: true });
  if (ids.length > 0) log.warn({ containers: ids.length }, 'removed containers left by an earlier run of this server');
  return ids.length;
}
