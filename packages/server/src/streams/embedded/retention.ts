import type { Logger } from 'pino';
import type { StreamLog } from './log.js';

/** Trims the embedded streams to their retention every `everyMs`, in the background; returns the stop function. */
export function startRetention(log: StreamLog, everyMs: number, logger: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    // A slow trim (a large backlog on a busy database) is not started again over itself.
    if (running) return;
    running = true;
    log.trim()
      .then((removed) => {
        if (removed > 0) logger.info({ removed }, 'stream retention trimmed messages');
      })
      .catch((err: unknown) => logger.error({ err }, 'stream retention trim failed'))
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
