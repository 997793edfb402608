/** In-memory engine counters, for tests that assert what the engine counted. */
import type { EngineMetric, EngineMetrics } from '#shared/logger';

export class CountingMetrics implements EngineMetrics {
  readonly counts = new Map<EngineMetric, number>();
  count(name: EngineMetric, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
  get(name: EngineMetric): number {
    return this.counts.get(name) ?? 0;
  }
}
