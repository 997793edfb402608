/**
 * The deadline store in memory, with the DynamoDB one's conditions (./deadlines.ts): a record
 * is created once, and a save lands only over the version it read. TTL is ignored.
 */
import type { DeadlineStore } from '../engine/ports.ts';
import { DeadlineRecordSchema, type DeadlineRecord } from './deadline-item.ts';

/** A new, empty in-memory deadline store. */
export function memoryDeadlineStore(): DeadlineStore & { all(): DeadlineRecord[] } {
  const items = new Map<string, DeadlineRecord>();
  const key = (r: { schedule: string; deadlineAt: string }) => `${r.schedule}\n${r.deadlineAt}`;
  const copy = (r: DeadlineRecord) => DeadlineRecordSchema.parse(structuredClone(r));
  const of = (schedule: string) => [...items.values()].filter((r) => r.schedule === schedule).sort((a, b) => (a.deadlineAt < b.deadlineAt ? -1 : 1));
  return {
    all: () => [...items.values()].map(copy),
    async listDeadlines(schedule, from, to) {
      return of(schedule).filter((r) => r.deadlineAt >= from && r.deadlineAt <= to).map(copy);
    },
    async latestDeadline(schedule, atOrBefore) {
      const found = of(schedule).filter((r) => r.deadlineAt <= atOrBefore).at(-1);
      return found ? copy(found) : undefined;
    },
    async createDeadline(record) {
      if (items.has(key(record))) return false;
      items.set(key(record), copy(record));
      return true;
    },
    async saveDeadline(record) {
      const stored = items.get(key(record));
      if (!stored || stored.version !== record.version) return undefined;
      const next = copy({ ...record, version: record.version + 1 });
      items.set(key(record), next);
      return copy(next);
    },
  };
}
