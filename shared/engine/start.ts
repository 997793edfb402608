/**
 * Starting a run: the one entry point for Scheduler fires, ad hoc API runs and backfills.
 *
 * The run id is deterministic (schedule + scheduled time, or the idempotency key), and the
 * run item is created with a condition that it does not exist, together with the schedule's
 * overlap state when the policy needs it (one transaction). A duplicate delivery, however
 * many and however concurrent, loses that condition, reads the run and *continues* it
 * (drive): if the first delivery died between creating the run and submitting, the
 * duplicate (or Lambda's retry) finishes the job; if it is alive, its lease stops the
 * duplicate from submitting too.
 */
import type { FireInput } from '../config/definition.ts';
import { RetryableError } from '../errors.ts';
import type { RunStatus, ScheduleState } from '../store/schema.ts';
import { contextOf, type EngineDeps } from './deps.ts';
import { startDependentRun } from './dependencies.ts';
import { drive } from './drive.ts';
import type { OverlapChange } from './ports.ts';
import { runIdFor } from './naming.ts';
import { newRun, type NewRunOptions } from './run-state.ts';

/** What startRun did. */
export interface StartResult {
  runId: string;
  status: RunStatus;
  /** False when the run already existed (a duplicate delivery or a retried API call). */
  created: boolean;
  statusReason?: string;
}

/** Options of an ad hoc start. */
export interface StartOptions {
  /** The API's Idempotency-Key: the same key always names the same run. */
  idempotencyKey?: string;
  /** What the key names: an API call (`adhoc`, the default) or an event or batch window (`event`). */
  keyKind?: 'adhoc' | 'event';
  /**
   * `ignore`: the run does not take part in the schedule's overlap policy (a backfill, which
   * keeps its own runs apart with its `parallel` limit). A paused schedule still skips it.
   */
  overlap?: 'ignore';
}

interface Decision {
  mode: NewRunOptions['mode'];
  reason?: string;
  supersedes?: string[];
  /** Absent: a plain conditional put; present: created together with this change of the schedule's state. */
  change?: OverlapChange;
}

/** Decides how a fire starts under the schedule's pause flag and overlap policy. */
function decide(input: FireInput, runId: string, state: ScheduleState, options: StartOptions = {}): Decision {
  if (state.paused) return { mode: 'skip', reason: 'schedule is paused' };
  if (options.overlap === 'ignore') return { mode: 'start' };
  const active = [...(state.active ?? [])].filter((id) => id !== runId);
  switch (input.definition.overlap) {
    case 'allow':
      return { mode: 'start' };
    case 'skip':
      return active.length ? { mode: 'skip', reason: `overlap: run ${active.join(', ')} is still active` } : { mode: 'start', change: { kind: 'become-active' } };
    case 'queue-one':
      if (!active.length) return { mode: 'start', change: { kind: 'become-active' } };
      if (state.queued && state.queued !== runId) return { mode: 'skip', reason: `overlap: run ${state.queued} is already queued` };
      return { mode: 'hold', reason: `queued behind ${active.join(', ')}`, change: { kind: 'queue' } };
    case 'cancel-previous':
      return { mode: 'start', supersedes: active, change: { kind: 'replace-active', expectedVersion: state.version } };
  }
}

/**
 * Starts (or continues) the run for `input`. Idempotent: the same input always names the
 * same run, and a second call drives the existing run instead of creating another.
 * Throws RetryableError when Batch or DynamoDB must be retried later; the run is recorded.
 */
export async function startRun(input: FireInput, deps: EngineDeps, options: StartOptions = {}): Promise<StartResult> {
  // A dependent schedule's fire: one run per logical date, waiting for its upstreams.
  if (input.definition.after?.length && input.trigger === 'schedule') return startDependentRun(input, deps);
  const runId = runIdFor(input, options.idempotencyKey, options.keyKind);
  const log = { schedule: input.schedule, runId, trigger: input.trigger, scheduledTime: input.scheduledTime };
  for (let i = 0; i < 10; i++) {
    const state = await deps.store.getScheduleState(input.schedule);
    const decision = decide(input, runId, state, options);
    const t = newRun(input, { runId, mode: decision.mode, reason: decision.reason, supersedes: decision.supersedes }, contextOf(deps));
    const outcome = decision.change
      ? await deps.store.createRunWithState(t.run, decision.change, deps.env.retentionDays)
      : (await deps.store.putNewRun(t.run, deps.env.retentionDays))
        ? 'created'
        : 'run-exists';
    if (outcome === 'state-changed') continue;
    if (outcome === 'run-exists') {
      const existing = await deps.store.getRun(runId);
      if (!existing) continue;
      deps.log.info('run exists; continuing it', { ...log, status: existing.status });
      const driven = await drive(existing, deps);
      return { runId, status: driven.status, created: false, statusReason: driven.statusReason };
    }
    deps.metrics.count(decision.mode === 'skip' ? 'RunsSkipped' : 'RunsStarted');
    deps.log.info(decision.mode === 'skip' ? 'run skipped' : decision.mode === 'hold' ? 'run queued' : 'run created', {
      ...log,
      reason: decision.reason,
      supersedes: decision.supersedes,
    });
    const driven = decision.mode === 'skip' ? t.run : await drive({ ...t.run }, deps, t.claims);
    return { runId, status: driven.status, created: true, statusReason: driven.statusReason };
  }
  throw new RetryableError(`run ${runId}: the schedule state kept changing; retry`);
}
