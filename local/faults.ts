/**
 * Fault injection for tests and benchmarks: the things AWS does to you on a bad day.
 * Throttling answers with the exception the real service uses; event faults act on the
 * event bus (duplicated, delayed, reordered or dropped deliveries). Randomness is seeded
 * so a failing run can be replayed.
 */
import { AwsError } from './contracts.ts';

export interface EventFaults {
  /** Probability (0..1) that an event is delivered twice. */
  duplicateRate?: number;
  /** Probability (0..1) that an event is never delivered. */
  dropRate?: number;
  /** Probability (0..1) that an event is held back by a random delay in `delayMs`. */
  delayRate?: number;
  /** [min, max] extra delay in clock milliseconds for delayed events. */
  delayMs?: [number, number];
  /**
   * Probability (0..1) that an event is held and swapped with the next one
   * for the same target, so targets see them out of order.
   */
  reorderRate?: number;
}

export interface FaultsSnapshot {
  throttles: Record<string, number>;
  events: EventFaults;
  seed: number;
  counters: Record<string, number>;
}

/** The code and status each service throttles with. */
const THROTTLE_ERRORS: Record<string, { code: string; status: number; message: string }> = {
  batch: { code: 'TooManyRequestsException', status: 429, message: 'Too Many Requests' },
  scheduler: { code: 'ThrottlingException', status: 429, message: 'Rate exceeded' },
  dynamodb: {
    code: 'ThrottlingException',
    status: 400,
    message: 'Rate of requests exceeds the allowed throughput.',
  },
  lambda: { code: 'TooManyRequestsException', status: 429, message: 'Rate Exceeded.' },
};

export class Faults {
  private throttles = new Map<string, { perSecond: number; windowStart: number; used: number }>();
  private eventFaults: EventFaults = {};
  private rng: () => number;
  private seedValue: number;
  /** Counters of injected faults by kind, e.g. `throttled:batch:SubmitJob`, `event:duplicated`. */
  readonly counters = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    seed = 1,
  ) {
    this.seedValue = seed;
    this.rng = mulberry32(seed);
  }

  /** Limits `service:operation` to `perSecond` calls per clock second; 0 or undefined removes it. */
  throttle(service: string, operation: string, perSecond: number | undefined): void {
    const key = `${service}:${operation}`;
    if (!perSecond) this.throttles.delete(key);
    else this.throttles.set(key, { perSecond, windowStart: 0, used: 0 });
  }

  /**
   * Throws the service's throttling error when `service:operation` is over its rate.
   * Services call this first thing in each operation.
   */
  check(service: string, operation: string): void {
    const t = this.throttles.get(`${service}:${operation}`);
    if (!t) return;
    const second = Math.floor(this.now() / 1000);
    if (second !== t.windowStart) {
      t.windowStart = second;
      t.used = 0;
    }
    if (t.used < t.perSecond) {
      t.used += 1;
      return;
    }
    this.count(`throttled:${service}:${operation}`);
    const e = THROTTLE_ERRORS[service] ?? { code: 'ThrottlingException', status: 429, message: 'Rate exceeded' };
    throw new AwsError(e.code, e.message, e.status);
  }

  /** Replaces the event faults; `{}` turns them off. */
  setEventFaults(faults: EventFaults): void {
    this.eventFaults = { ...faults };
  }

  get events(): Readonly<EventFaults> {
    return this.eventFaults;
  }

  /** Re-seeds the random source so a run can be replayed. */
  seed(seed: number): void {
    this.seedValue = seed;
    this.rng = mulberry32(seed);
  }

  /** A number in [0, 1) from the seeded source. */
  random(): number {
    return this.rng();
  }

  /** True with probability `p`. */
  chance(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.rng() < p;
  }

  count(kind: string, by = 1): void {
    this.counters.set(kind, (this.counters.get(kind) ?? 0) + by);
  }

  /** Clears throttles, event faults and counters. */
  reset(): void {
    this.throttles.clear();
    this.eventFaults = {};
    this.counters.clear();
  }

  snapshot(): FaultsSnapshot {
    return {
      throttles: Object.fromEntries([...this.throttles].map(([k, v]) => [k, v.perSecond])),
      events: { ...this.eventFaults },
      seed: this.seedValue,
      counters: Object.fromEntries(this.counters),
    };
  }
}

/** A small seeded generator: the same seed, the same faults (and, in tests, the same scenario). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
