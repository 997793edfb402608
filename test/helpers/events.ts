/**
 * Fixture loader: real-shaped events from events/<source>/<case>.json, a fresh deep copy per
 * call so a test that edits one never leaks into the next.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../events/', import.meta.url));
const cache = new Map<string, string>();

/** Loads `events/<source>/<name>.json` as a fresh object. */
export function loadEvent<T = Record<string, any>>(source: string, name: string): T {
  const key = `${source}/${name}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = readFileSync(`${root}${key}.json`, 'utf8');
    cache.set(key, text);
  }
  return JSON.parse(text) as T;
}
