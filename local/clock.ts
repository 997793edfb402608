/**
 * The local stack's clock. Everything time-driven in the stack (schedule fires, job
 * timeouts, Lambda async retry delays, delayed events) waits on this clock instead of
 * on `setTimeout`, so a test can jump hours ahead (`advance`, `set`) and watch a nightly
 * schedule, a DST night or a backoff happen in milliseconds with the same code paths.
 *
 * In normal running it is wall-clock time plus an offset that only moves when someone
 * sets it; timers are kept in a heap and one real `setTimeout` is armed for the earliest.
 */
export interface Timer {
  /** Stops the timer; harmless if it already ran. */
  cancel(): void;
}

interface Entry {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

const MAX_TIMEOUT = 2_147_483_647;

export class Clock {
  private offsetMs = 0;
  private heap: Entry[] = [];
  private seq = 0;
  private armed: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private disposed = false;

  constructor(start?: number | Date) {
    if (start !== undefined) this.offsetMs = toMs(start) - Date.now();
  }

  /** Current time in epoch milliseconds. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Current time as a Date. */
  date(): Date {
    return new Date(this.now());
  }

  /** Runs `fn` once the clock reaches `when`; runs on the next tick if already past. */
  at(when: number | Date, fn: () => void): Timer {
    const entry: Entry = { due: toMs(when), seq: this.seq++, fn, cancelled: false };
    this.push(entry);
    this.arm();
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Runs `fn` after `ms` milliseconds of clock time. */
  after(ms: number, fn: () => void): Timer {
    return this.at(this.now() + Math.max(0, ms), fn);
  }

  /** Resolves after `ms` milliseconds of clock time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /** Resolves when the clock reaches `when`. */
  sleepUntil(when: number | Date): Promise<void> {
    return new Promise((resolve) => this.at(when, resolve));
  }

  /** Moves the clock forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
    this.fireDue();
  }

  /** Sets the clock to `when`. Moving backwards is allowed but runs nothing. */
  set(when: number | Date): void {
    this.offsetMs = toMs(when) - Date.now();
    this.fireDue();
  }

  /** Number of timers still waiting; for tests and diagnostics. */
  pending(): number {
    return this.heap.filter((e) => !e.cancelled).length;
  }

  /** Cancels every timer and stops arming new ones. */
  dispose(): void {
    this.disposed = true;
    if (this.armed) clearTimeout(this.armed);
    this.armed = undefined;
    this.heap = [];
  }

  private fireDue(): void {
    if (this.armed) clearTimeout(this.armed);
    this.armed = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    const due: Entry[] = [];
    while (this.heap.length > 0 && this.heap[0]!.due <= now) due.push(this.pop()!);
    for (const entry of due) {
      if (entry.cancelled) continue;
      try {
        entry.fn();
      } catch (error) {
        // A timer callback's failure must not stop the other timers from running.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    this.arm();
  }

  private arm(): void {
    if (this.disposed) return;
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    const next = this.heap[0];
    if (!next) return;
    if (this.armed && next.due >= this.armedFor) return;
    if (this.armed) clearTimeout(this.armed);
    this.armedFor = next.due;
    const delay = Math.min(Math.max(0, next.due - this.now()), MAX_TIMEOUT);
    this.armed = setTimeout(() => {
      this.armed = undefined;
      this.armedFor = Infinity;
      this.fireDue();
    }, delay);
    // Timers alone must not keep a process (a CLI, a test worker) alive.
    this.armed.unref?.();
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function toMs(when: number | Date): number {
  return typeof when === 'number' ? when : when.getTime();
}
