/**
 * The engine's trigger deps for tests of event triggers: a given store, window store and
 * Batch port, a test clock that sleeping advances, and in-memory log, metrics and Slack.
 */
import type { BatchPort, Store, WindowStore } from '#shared/engine/ports';
import type { TriggerDeps } from '#shared/engine/trigger';
import { MemoryLog, MemoryNotifier } from '#test/helpers/engine';
import { CountingMetrics } from '#test/helpers/metrics';

export function triggerDeps(
  clock: { now: number },
  parts: { store: Store; windowStore: WindowStore; batch: BatchPort; windows?: TriggerDeps['windows'] },
): TriggerDeps {
  return {
    store: parts.store,
    windowStore: parts.windowStore,
    batch: parts.batch,
    retries: { scheduleRetry: async () => 'created' },
    ...(parts.windows ? { windows: parts.windows } : {}),
    notifier: new MemoryNotifier(),
    env: { deployment: 'trig', defaultQueue: 'q', retentionDays: 1, jobLogGroup: '/aws/batch/job', region: 'us-east-1', stuckMinutes: { queued: 30, submitted: 120, running: 720 }, submitRate: 1000 },
    now: () => clock.now,
    sleep: async (ms) => {
      clock.now += ms;
    },
    owner: 'test',
    log: new MemoryLog(),
    metrics: new CountingMetrics(),
  };
}
