/**
 * Definitions stored once per version (shared/store/definitions.ts): the version hash names
 * equal definitions alike whatever their key order and tells changed ones apart, two
 * schedules never share one, and what a container remembers of them is bounded and kept per
 * table. The requests themselves are in test/integration/store-contract.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DefinitionCache, EXTEND_DAYS, MARGIN_DAYS, neededAtCreation, neededForExpiry } from '#shared/store/definitions';
import { definitionHash } from '#shared/store/keys';
import type { ScheduleDefinition } from '#shared/config/definition';
import { definition, task } from '#test/helpers/engine';

/** The same definition with every object's keys in reverse order. */
function reordered<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reordered) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reordered(v)])) as T;
  return value;
}

describe('the version hash of a definition', () => {
  const base = definition('nightly', [task('extract'), task('load', 'exit 0', { dependsOn: ['extract'] })]);

  it('is the same for an equal definition written in another key order, and 32 hex digits', () => {
    const copy = reordered(structuredClone(base));
    expect(Object.keys(copy)[0]).not.toBe(Object.keys(base)[0]);
    expect(definitionHash(copy)).toBe(definitionHash(base));
    expect(definitionHash(base)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('changes with any change of the definition, and differs between two schedules of the same tasks', () => {
    const changed: ScheduleDefinition[] = [
      { ...base, expression: 'rate(2 hours)' },
      { ...base, tasks: [base.tasks[0]!, { ...base.tasks[1]!, command: ['sh', '-c', 'exit 1'] }] },
      { ...base, notify: { ...base.notify, onFailure: false } },
      { ...base, name: 'nightly-copy' },
    ];
    const hashes = new Set([base, ...changed].map((d) => definitionHash(structuredClone(d))));
    expect(hashes.size).toBe(changed.length + 1);
  });
});

describe('what a container remembers of definition items', () => {
  const known = (expiresAt: number) => ({ definition: definition('d', [task('main')]), expiresAt });

  it('keeps at most its capacity, dropping the least recently used first', () => {
    const cache = new DefinitionCache(2);
    cache.set('t', 'a', known(1));
    cache.set('t', 'b', known(2));
    expect(cache.get('t', 'a')?.expiresAt).toBe(1);
    cache.set('t', 'c', known(3));
    expect(cache.size).toBe(2);
    expect(cache.get('t', 'b')).toBeUndefined();
    expect(cache.get('t', 'a')?.expiresAt).toBe(1);
    expect(cache.get('t', 'c')?.expiresAt).toBe(3);
  });

  it('knows a hash only for the table it was seen in, and hands out copies', () => {
    const cache = new DefinitionCache();
    const entry = known(1);
    cache.set('table-1', 'a', entry);
    entry.definition.tasks[0]!.name = 'changed';
    expect(cache.get('table-2', 'a')).toBeUndefined();
    expect(cache.get('table-1', 'a')?.definition.tasks[0]?.name).toBe('main');
  });
});

describe('how long a definition item must live', () => {
  it('outlives a run created now by its retention plus the margin, and a finalized run by the margin past its TTL', () => {
    const now = Date.parse('2026-11-30T00:00:00Z');
    expect(neededAtCreation(now, 30)).toBe(now / 1000 + (30 + MARGIN_DAYS) * 86_400);
    expect(neededForExpiry(now / 1000)).toBe(now / 1000 + MARGIN_DAYS * 86_400);
    // Written 90 days past creation with a 30-day margin: refreshed about every 60 days.
    expect(MARGIN_DAYS + EXTEND_DAYS).toBe(90);
  });
});
