/**
 * Hash routes, so every view and its filters is a URL that can be shared and needs no
 * server route: `#/now`, `#/schedules?q=etl`, `#/schedules/<name>`, `#/runs?status=FAILED`,
 * `#/runs/<id>`.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  view: 'now' | 'schedules' | 'schedule' | 'runs' | 'run' | 'notfound';
  id?: string;
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/now';
  const [path = '/now', search = ''] = raw.split('?', 2) as [string, string?];
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [head, id] = parts;
  if (!head || head === 'now') return { view: 'now', query };
  if (head === 'schedules') return id ? { view: 'schedule', id, query } : { view: 'schedules', query };
  if (head === 'runs') return id ? { view: 'run', id, query } : { view: 'runs', query };
  return { view: 'notfound', query };
}

/** `#/runs?status=FAILED` from a path and filters (empty filters left out). */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') s.set(k, v);
  const text = s.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** Changes the filters of the current view (replacing the history entry while typing). */
export function setQuery(path: string, query: Record<string, string | undefined>, replace = true): void {
  const next = href(path, query);
  if (replace) history.replaceState(null, '', next);
  else history.pushState(null, '', next);
  dispatchEvent(new HashChangeEvent('hashchange'));
}
