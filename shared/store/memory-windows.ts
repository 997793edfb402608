/**
 * Batch-window state in memory, with the conditional semantics of the DynamoDB window store
 * (./windows.ts): arrivals counted atomically on an open head, an event added once per key
 * while window and part are open (seen-marker and part together or neither), closes
 * idempotent, overdue windows listed from an index of open heads by end. Each method is
 * atomic, as each DynamoDB request (the transaction included) is. TTL is ignored.
 */
import type { WindowHeadState, WindowRef, WindowStore } from '../engine/ports.ts';

/** A new, empty in-memory window store. */
export function memoryWindowStore(): WindowStore {
  const heads = new Map<string, WindowHeadState & { ref: WindowRef; indexed: boolean }>();
  const parts = new Map<string, { values: string[]; closed: boolean }>();
  const seen = new Set<string>();
  const id = (w: WindowRef) => `${w.schedule}\u0000${w.trigger}\u0000${w.window}`;
  const copy = <T>(v: T): T => structuredClone(v);
  return {
    async countArrival(w, head) {
      const h = heads.get(id(w));
      if (h?.closed) return 'closed';
      if (!h) {
        heads.set(id(w), { ref: copy(w), n: 1, closesAt: head.closesAt, definition: copy(head.definition), settings: copy(head.settings), indexed: true });
        return 1;
      }
      h.n += 1;
      return h.n;
    },
    async addToPart(w, part, event) {
      const key = `${w.schedule}\u0000${w.trigger}\u0000${event.key}`;
      if (seen.has(key)) return 'duplicate';
      const p = parts.get(`${id(w)}\u0000${part}`);
      if (heads.get(id(w))?.closed || p?.closed) return 'closed';
      seen.add(key);
      if (p) p.values.push(event.value);
      else parts.set(`${id(w)}\u0000${part}`, { values: [event.value], closed: false });
      return 'added';
    },
    async closePart(w, part) {
      const p = parts.get(`${id(w)}\u0000${part}`);
      if (!p) return undefined;
      p.closed = true;
      return [...p.values];
    },
    async closeHead(w) {
      const h = heads.get(id(w));
      if (!h) return undefined;
      h.closed = true;
      const { ref: _ref, indexed: _indexed, ...state } = h;
      return copy(state);
    },
    async retireWindow(w) {
      const h = heads.get(id(w));
      if (h) h.indexed = false;
    },
    async listOverdueWindows(before) {
      return [...heads.values()]
        .filter((h) => h.indexed && h.closesAt < before)
        .sort((a, b) => a.closesAt - b.closesAt)
        .map((h) => copy(h.ref));
    },
  };
}
