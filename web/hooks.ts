import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** How often a page re-reads what it shows: live within 2 s of a change. */
export const POLL_MS = 1500;

/**
 * Loads `load()` now and every POLL_MS while the tab is visible (a hidden tab stops asking);
 * `key` changes (the URL's filters) start over. A tick finding the last load still running
 * lets it finish: superseding it would, with a load slower than the interval, never show
 * anything (only the latest load's answer is shown).
 */
export function usePoll<T>(load: () => Promise<T>, key: string, interval = POLL_MS): { data?: T; error?: Error; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: Error; key: string }>({ key });
  const loadRef = useRef(load);
  loadRef.current = load;
  const tick = useRef(0);
  const inFlight = useRef(false);
  const run = useCallback(() => {
    const mine = ++tick.current;
    inFlight.current = true;
    const settle = () => {
      if (mine === tick.current) inFlight.current = false;
      return mine === tick.current;
    };
    loadRef.current().then(
      (data) => settle() && setState({ data, key }),
      (error: Error) => settle() && setState((s) => ({ data: s.key === key ? s.data : undefined, error, key })),
    );
  }, [key]);
  useEffect(() => {
    run();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible' && !inFlight.current) run();
    }, interval);
    return () => {
      clearInterval(timer);
      tick.current++;
    };
  }, [run, interval]);
  const data = state.key === key ? state.data : undefined;
  return { ...(data !== undefined ? { data } : {}), ...(state.error ? { error: state.error } : {}), reload: run };
}

/** The current time, re-rendered every second (countdowns, elapsed times). */
export function useNow(every = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(t);
  }, [every]);
  return now;
}
