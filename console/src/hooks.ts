import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * Polls `load` every `intervalMs` while the tab is visible; after a failure it backs off (doubling,
 * up to a minute) and returns to the interval once a call succeeds. `reload` fetches now.
 */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], intervalMs = 2000) {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = intervalMs;
    const run = async () => {
      if (stopped) return;
      if (document.visibilityState === 'hidden') {
        timer = setTimeout(run, intervalMs);
        return;
      }
      try {
        const value = await loadRef.current();
        if (stopped) return;
        setData(value);
        setError(undefined);
        delay = intervalMs;
      } catch (e) {
        if (stopped) return;
        setError(e as Error);
        delay = Math.min(delay * 2, 60_000);
      }
      if (intervalMs > 0) timer = setTimeout(run, delay);
    };
    void run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, intervalMs]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}

/** The console's routes live under /console; navigation is pushState. */
export function useRoute(): [string, (to: string) => void] {
  const [path, setPath] = useState(() => location.pathname.replace(/^\/console/, '') || '/');
  useEffect(() => {
    const onPop = () => setPath(location.pathname.replace(/^\/console/, '') || '/');
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((to: string) => {
    history.pushState(null, '', `/console${to}`);
    setPath(to.split('?')[0]);
  }, []);
  return [path, navigate];
}
