import type { Logger } from 'pino';
import type { EmbeddedLog } from './log.js';

/** Trims the embedded streams to their retention every `everyMs`, in the background; returns the stop function. */
export function startRetention(log: EmbeddedLog, everyMs: number, logger: Logger): () => void {
  const timer = setInterval(() => {
    try {
      const removed = log.trim();
      if (removed > 0) logger.info({ removed }, 'stream retention trimmed messages');
    } catch (err) {
      logger.error({ err }, 'stream retention trim failed');
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
