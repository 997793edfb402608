/**
 * Submission of a run's READY tasks under their lease: adopt a job already submitted under
 * the attempt's name, else SubmitJob at a paced slot (./pacing.ts); record the job ids,
 * hand slots beyond the invocation's budget to one-time schedules, and fail attempts Batch
 * refuses for good.
 */
import { RequestRefusedError } from '../errors.ts';
import type { RunItem } from '../store/schema.ts';
import { DEFAULTS, type EngineDeps } from './deps.ts';
import { mutateRun, type Mutation } from './mutate.ts';
import { deferralScheduleName } from './naming.ts';
import { submitPaced } from './pacing.ts';
import {
  deferSubmission,
  readyTasks,
  recordSubmission,
  refuseSubmission,
  takeOverLease,
  taskDefinitions,
  type Claim,
  type Transition,
} from './run-state.ts';
import { submitJobInput } from './submit.ts';

/** True while a deferred attempt is left to its one-time schedule (see `deferSubmission`). */
function awaitingDeferral(record: { slotAt?: number }, now: number): boolean {
  return record.slotAt !== undefined && record.slotAt - DEFAULTS.deferralLeadMs > now;
}

/** Submits (or adopts, or defers) the READY tasks `run` leases to this invocation; `claims` were just leased by it. */
export async function submitReady(run: RunItem, deps: EngineDeps, claims: Claim[]): Promise<RunItem> {
  const fresh = new Set(claims.map((c) => `${c.task}#${c.attempt}`));
  const now = deps.now();
  const defs = taskDefinitions(run.definition);
  const work = readyTasks(run).filter(
    ({ record }) => (record.leaseOwner === deps.owner || (record.leaseUntil ?? 0) <= now) && !awaitingDeferral(record, now),
  );
  if (work.length === 0) return run;
  const results: { task: string; attempt: number; jobId: string }[] = [];
  const deferred: { task: string; attempt: number; slotAt: number }[] = [];
  const refused: { task: string; attempt: number; reason: string }[] = [];
  const failures: unknown[] = [];
  await Promise.all(
    work.map(async ({ task, record }) => {
      const key = `${task.name}#${record.attempt}`;
      const log = { schedule: run.schedule, runId: run.runId, task: task.name, attempt: record.attempt, jobName: record.jobName };
      try {
        let lookup = true;
        let taken: Mutation | undefined;
        if (fresh.has(key) && record.leaseOwner === deps.owner) {
          // This invocation created the attempt with its lease a moment ago: nobody can have
          // submitted it yet, so the ListJobs lookup (itself rate-limited) is skipped.
          lookup = false;
        } else {
          taken = await mutateRun(deps, run.runId, (r, ctx) => takeOverLease(r, task.name, ctx));
          if (!taken.changed) return;
          deps.log.info('submission lease taken over', log);
        }
        const def = defs.get(task.name)!.def;
        if (lookup) {
          const found = await deps.batch.findJobsByName(def.jobQueue, record.jobName);
          if (found[0]) {
            deps.metrics.count('JobsAdopted');
            deps.log.info('job found by name; adopting it instead of submitting again', { ...log, jobId: found[0].jobId });
            results.push({ task: task.name, attempt: record.attempt, jobId: found[0].jobId });
            return;
          }
        }
        const leased = taken?.run?.tasks[task.name]?.attempts.at(-1) ?? record;
        const leaseUntil = leased.leaseUntil ?? deps.now() + (deps.leaseMs ?? DEFAULTS.leaseMs);
        const outcome = await submitPaced(deps, submitJobInput(run, def, record, deps.env.deployment), leaseUntil, leased.slotAt, log);
        if ('deferTo' in outcome) {
          deferred.push({ task: task.name, attempt: record.attempt, slotAt: outcome.deferTo });
          return;
        }
        const jobId = outcome.jobId;
        deps.metrics.count('JobsSubmitted');
        deps.log.info('job submitted', { ...log, jobId });
        results.push({ task: task.name, attempt: record.attempt, jobId });
      } catch (error) {
        if (error instanceof RequestRefusedError) {
          // Permanent: recorded below as the attempt's failure, never sent again.
          deps.metrics.count('SubmissionsRefused');
          deps.log.warn('Batch refused the submission for good; the task fails', { ...log, error: error.message });
          refused.push({ task: task.name, attempt: record.attempt, reason: error.reason });
          return;
        }
        deps.log.warn('submission failed', { ...log, error: String(error) });
        failures.push(error);
      }
    }),
  );
  let current = run;
  if (results.length) {
    // With fresh claims `run` is the state this invocation just wrote: no one else can have
    // recorded these jobs, so the first try writes over it without reading it again.
    const recorded = await mutateRun(
      deps,
      run.runId,
      (r, ctx) => applyEach(r, results, (x, res) => recordSubmission(x, res.task, res.attempt, res.jobId, ctx)),
      undefined,
      claims.length ? run : undefined,
    );
    current = recorded.run ?? run;
  } else if (!deferred.length && !refused.length) {
    current = (await deps.store.getRun(run.runId)) ?? run;
  }
  if (deferred.length) current = await defer(current, deferred, deps, claims.length > 0 && !results.length);
  if (refused.length) {
    const m = await mutateRun(deps, run.runId, (r, ctx) => applyEach(r, refused, (x, f) => refuseSubmission(x, f.task, f.attempt, f.reason, ctx)));
    current = m.run ?? current;
    // The failure may have claimed on-failure tasks: submit them now (they have no successors,
    // so this recursion is one level deep).
    if (m.transition?.claims.length) current = await submitReady(current, deps, m.transition.claims);
  }
  // Throw after recording what did succeed, so Lambda's retry re-drives only the rest.
  if (failures.length) throw failures[0];
  return current;
}

/**
 * Hands reserved slots beyond this invocation's budget to one-time schedules at those slots
 * (through the retry function, which drives the run). The schedules exist before the state
 * that says so, as a retry's do; a schedule left behind by a failed write only finds the
 * attempt still leased and does nothing.
 */
/** `step` applied to the run for each item in turn, keeping every claim the steps make. */
function applyEach<T>(run: RunItem, items: T[], step: (run: RunItem, item: T) => Transition): Transition {
  let t: Transition = { run, claims: [], retries: [] };
  for (const item of items) {
    const next = step(t.run, item);
    t = { run: next.run, claims: [...t.claims, ...next.claims], retries: [] };
  }
  return t;
}

async function defer(run: RunItem, deferred: { task: string; attempt: number; slotAt: number }[], deps: EngineDeps, ownWrite: boolean): Promise<RunItem> {
  const m = await mutateRun(
    deps,
    run.runId,
    (r, ctx) => {
      let t: Transition = { run: r, claims: [], retries: [] };
      for (const d of deferred) t = { ...deferSubmission(t.run, d.task, d.attempt, d.slotAt, ctx), claims: [], retries: [] };
      return t;
    },
    async (t) => {
      for (const d of deferred) {
        const record = t.run.tasks[d.task]?.attempts[d.attempt - 1];
        if (record?.slotAt !== d.slotAt || record.deferrals === undefined) continue;
        const input = { runId: run.runId, task: d.task, attempt: d.attempt };
        await deps.retries.scheduleRetry({
          name: deferralScheduleName(deps.env.deployment, run.runId, d.task, d.attempt, record.deferrals),
          at: d.slotAt,
          input,
          description: `Batchron deferred submission: ${run.runId} ${d.task} attempt ${d.attempt}`,
        });
      }
    },
    // Only this invocation can have written since its own claim: write over it without a read.
    ownWrite ? run : undefined,
  );
  for (const d of deferred) {
    deps.metrics.count('SubmissionsDeferred');
    deps.log.info('SubmitJob slot beyond this invocation; handed to a one-time schedule', {
      schedule: run.schedule,
      runId: run.runId,
      task: d.task,
      attempt: d.attempt,
      slotAt: new Date(d.slotAt).toISOString(),
    });
  }
  return m.run ?? run;
}