import { useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  error: string | undefined;
  /** Reads again now (after an action), without waiting for the next tick. */
  refresh: () => void;
}

/**
 * One poll per page: `load` runs at once, then every `everyMs` while the tab is visible. A slow answer is never
 * overlapped by the next request, so a stalled server sees one request at a time from each open page.
 */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: readonly unknown[] = []): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const kick = useRef<() => void>(() => undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    const tick = async () => {
      if (stopped || running) return;
      clearTimeout(timer);
      running = true;
      try {
        const value = await load();
        if (!stopped) {
          setData(value);
          setError(undefined);
        }
      } catch (err) {
        if (!stopped) setError(err instanceof Error ? err.message : String(err));
      } finally {
        running = false;
        if (!stopped && !document.hidden) timer = setTimeout(() => void tick(), everyMs);
      }
    };
    const onVisible = () => {
      if (!document.hidden) void tick();
    };
    kick.current = () => void tick();
    document.addEventListener('visibilitychange', onVisible);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, deps);
  return { data, error, refresh: () => kick.current() };
}

/** The location hash as a path (`#/fns/abc` → `/fns/abc`), updated as it changes: the console's router. */
export function useHashPath(): string {
  const read = () => decodeURI(location.hash.replace(/^#/, '')) || '/';
  const [path, setPath] = useState(read);
  useEffect(() => {
    const on = () => setPath(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return path;
}
