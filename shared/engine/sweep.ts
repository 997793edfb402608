/**
 * The periodic reconciler, last line of defence for everything events and retries can lose:
 * - jobs whose events never came: DescribeJobs (100 per call) fed through the same path as
 *   events (applyJobFacts), so a repair is indistinguishable from a late event;
 * - READY tasks whose lease expired without a job (a crashed submitter): driven again, with
 *   the lookup by job name first;
 * - RETRY_WAIT tasks long past `retryAt` (a lost retry schedule): started directly;
 * - settled runs not finalized, queue-one waiters whose turn came, owed notifications;
 * - runs stuck longer than their limit in QUEUED, SUBMITTED or RUNNING: one alert per state.
 * It reads only the sparse active index (sharded) and runs by key: no scans.
 */
import pLimit from 'p-limit';
import type { RunItem, StuckState } from '../store/schema.ts';
import { DEFAULTS, type EngineDeps } from './deps.ts';
import { deliver, drive, startQueued, type Slot } from './drive.ts';
import { applyJobFacts } from './events.ts';
import { repairMissedFires, type MissedReport } from './missed.ts';
import { checkDeadlines, type DeadlineReport } from './deadline.ts';
import type { ScheduleRegistryPort } from './registry.ts';
import { resumeRetry } from './retry.ts';
import { repairWindows } from './trigger.ts';
import { expireWaiting, isWaiting } from './dependencies.ts';
import { liveJobs } from './run-state.ts';
import { attemptStatusOf, isTerminalRun } from './status.ts';

/** What one sweep did. */
export interface SweepReport {
  activeRuns: number;
  jobsDescribed: number;
  jobsRepaired: number;
  retriesStarted: number;
  runsDriven: number;
  stuckAlerts: number;
  /** Batch windows of event triggers closed here because their close schedule never came. */
  windowsClosed?: number;
  errors: number;
  /** The missed-fire repair (shared/engine/missed.ts); absent without a schedule registry. */
  missed?: MissedReport;
  /** The deadline checks (shared/engine/deadline.ts); absent without a registry or a deadline store. */
  deadlines?: DeadlineReport;
}

/** Sweeps every active run once. Errors on one run are logged and counted, never stop the sweep. */
export async function sweep(deps: EngineDeps, options: { concurrency?: number } = {}): Promise<SweepReport> {
  const report: SweepReport = { activeRuns: 0, jobsDescribed: 0, jobsRepaired: 0, retriesStarted: 0, runsDriven: 0, stuckAlerts: 0, errors: 0 };
  const ids = await deps.store.listActiveRunIds();
  report.activeRuns = ids.length;
  const limit = pLimit(options.concurrency ?? 8);
  const runs = (await Promise.all(ids.map((id) => limit(() => deps.store.getRun(id))))).filter((r): r is RunItem => r !== undefined);

  // 1. Jobs whose events may have been lost, 100 per DescribeJobs.
  const recorded = new Map<string, { run: RunItem; task: string; attempt: number; status: string }>();
  for (const run of runs) {
    for (const job of liveJobs(run)) {
      const attempt = run.tasks[job.task]!.attempts[job.attempt - 1]!;
      recorded.set(job.jobId, { run, task: job.task, attempt: job.attempt, status: attempt.status });
    }
  }
  const jobIds = [...recorded.keys()];
  for (let i = 0; i < jobIds.length; i += 100) {
    const batch = jobIds.slice(i, i + 100);
    let facts;
    try {
      facts = await deps.batch.describeJobs(batch);
    } catch (error) {
      report.errors++;
      deps.log.error('sweep: DescribeJobs failed', { error: String(error), jobs: batch.length });
      continue;
    }
    report.jobsDescribed += facts.length;
    for (const job of facts) {
      const known = recorded.get(job.jobId);
      if (!known || attemptStatusOf(job.status) === known.status) continue;
      await guard(report, deps, known.run, async () => {
        const result = await applyJobFacts(job, deps);
        if (result.outcome === 'applied') {
          report.jobsRepaired++;
          deps.metrics.count('SweepRepairs');
          deps.log.info('sweep: applied a status the events did not deliver', {
            schedule: known.run.schedule,
            runId: known.run.runId,
            task: known.task,
            attempt: known.attempt,
            jobId: job.jobId,
            batchStatus: job.status,
          });
        }
      });
    }
  }

  // 2. Everything else, per run, on the run as it is now.
  const graceMs = deps.retryGraceMs ?? DEFAULTS.retryGraceMs;
  await Promise.all(
    runs.map((stale) =>
      limit(() =>
        guard(report, deps, stale, async () => {
          let run = await deps.store.getRun(stale.runId);
          if (!run || run.finalized) return;
          const now = deps.now();
          for (const task of Object.values(run.tasks)) {
            if (task.status === 'RETRY_WAIT' && task.retryAt && Date.parse(task.retryAt) + graceMs <= now) {
              deps.log.warn('sweep: retry overdue; starting it', { schedule: run.schedule, runId: run.runId, task: task.name, retryAt: task.retryAt });
              await resumeRetry({ runId: run.runId, task: task.name, attempt: task.attempts.length + 1 }, deps);
              report.retriesStarted++;
            }
          }
          run = (await deps.store.getRun(run.runId)) ?? run;
          // A dependent run past its wait's `within` ends here, with one alert.
          if (await expireWaiting(run, deps)) return;
          if (run.held) {
            const state = await deps.store.getScheduleState(run.schedule);
            if (state.active?.has(run.runId) || (state.queued === run.runId && !state.active?.size)) {
              await startQueued(run.schedule, run.runId, deps);
            }
          }
          run = await drive((await deps.store.getRun(run.runId)) ?? run, deps);
          report.runsDriven++;
          report.stuckAlerts += await alertStuck(run, deps);
        }),
      ),
    ),
  );
  // Fires that never became runs (every delivery lost): their runs are created here. The
  // registry is listed once per sweep, for this and for the deadlines.
  const registry = deps.registry && onceListed(deps.registry);
  if (registry) {
    try {
      report.missed = await repairMissedFires(deps, registry);
    } catch (error) {
      report.errors++;
      deps.log.error('sweep: missed fires not checked this time', { error: String(error) });
    }
  }
  // Deadlines that fell (one alert), and missed ones whose run then succeeded (one "met late").
  if (registry && deps.deadlineStore) {
    try {
      report.deadlines = await checkDeadlines(deps, deps.deadlineStore, await registry.listEnabled());
    } catch (error) {
      report.errors++;
      deps.log.error('sweep: deadlines not checked this time', { error: String(error) });
    }
  }
  deps.log.info('sweep done', { ...report });
  // 5. Batch windows past their end whose close never came (shared/engine/trigger.ts).
  try {
    report.windowsClosed = (await repairWindows(deps)).length;
  } catch (error) {
    report.errors++;
    deps.log.error('sweep: closing overdue batch windows failed', { error: String(error) });
  }
  return report;
}

/** A registry whose listing is read once, however often it is asked. */
function onceListed(registry: ScheduleRegistryPort): ScheduleRegistryPort {
  let listed: ReturnType<ScheduleRegistryPort['listEnabled']> | undefined;
  return { listEnabled: () => (listed ??= registry.listEnabled()) };
}

const STUCK: { state: StuckState; key: 'queued' | 'submitted' | 'running' }[] = [
  { state: 'QUEUED', key: 'queued' },
  { state: 'SUBMITTED', key: 'submitted' },
  { state: 'RUNNING', key: 'running' },
];

async function alertStuck(run: RunItem, deps: EngineDeps): Promise<number> {
  if (isTerminalRun(run.status) || isWaiting(run)) return 0;
  const entry = STUCK.find((s) => s.state === run.status);
  if (!entry) return 0;
  const since = run.since[entry.state];
  const minutes = run.definition.notify.stuckAfterMinutes[entry.key] ?? deps.env.stuckMinutes[entry.key];
  if (!since || deps.now() - Date.parse(since) < minutes * 60_000) return 0;
  const slot: Slot = `stuck.${entry.state}`;
  if (run.notify.stuck?.[entry.state]?.status === 'SENT') return 0;
  deps.log.warn('sweep: run stuck', { schedule: run.schedule, runId: run.runId, state: entry.state, since, minutes });
  const after = await deliver(run, deps, [slot], run.notify.stuck?.[entry.state] ? [] : [slot]);
  return after.notify.stuck?.[entry.state]?.status === 'SENT' ? 1 : 0;
}

async function guard(report: SweepReport, deps: EngineDeps, run: RunItem, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    report.errors++;
    deps.log.error('sweep: run not repaired this time', { schedule: run.schedule, runId: run.runId, error: String(error) });
  }
}
