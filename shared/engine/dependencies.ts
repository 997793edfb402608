/**
 * Cross-schedule dependencies (`after`): the run of a dependent schedule for logical date D
 * waits until the run of each upstream for D has ended with the status it names.
 *
 * One run per (schedule, D): its id is `<schedule>.for-<D>` (dependencyRunId), created with a
 * conditional put by whichever comes first, the dependent's own fire (when it has a time
 * expression) or an upstream run for D ending as required. The run item holds the wait
 * (`dependency`: what it still needs, which upstream run met what, until when it waits) and is
 * `held` (QUEUED, nothing submitted) until `needs` is empty; every later arrival is a
 * read-modify-write of that one item under its version. So deliveries, retries and
 * re-finalizations in any order and any number give one run per D, released once.
 *
 * The upstream side runs in the engine's finalization of each upstream run (drive.ts
 * `finalize`), before the run is marked finalized: a crash there leaves the upstream run
 * unfinalized in the active index, and whoever finalizes it again (Lambda's retry, the
 * sweeper) repeats the release, which records the same upstream run once.
 *
 * Re-runs and backfills: an upstream run that ends as required while the dependent run for D
 * waits meets its need (a backfill fills the dependent's date, creating its run when the
 * dependent has no time expression). Once the dependent run has finished, a later upstream
 * run for D (a re-run, another run of the day, a backfill) re-runs it only when the dependent
 * declares `wait.onUpstreamRerun: rerun`, and once per upstream run attempt. A dependent
 * with a time expression is not created for a date older than its own current date (its
 * fire for that date has passed): backfill the dependent itself.
 *
 * `wait.within` bounds the wait from when it began (the fire, or for a dependent without an
 * expression the first upstream run that met its need); past it the sweeper ends the run
 * FAILED or SKIPPED (`wait.onExpiry`) with one alert.
 */
import type { BaseScheduleDefinition, DependencyLink, FireInput, ScheduleDefinition } from '../config/definition.ts';
import { runsByScheduleSort } from '../store/keys.ts';
import type { RunItem } from '../store/schema.ts';
import { contextOf, type EngineDeps } from './deps.ts';
import { drive, mutateRun } from './drive.ts';
import { logicalDateOf } from './logical-date.ts';
import { cancelRun, newRun, releaseHeld, rerunRun, type Transition, type TransitionContext } from './run-state.ts';
import type { StartResult } from './start.ts';
import { isTerminalRun } from './status.ts';

/** In `needs`: the dependent's own scheduled fire for D has not come yet. */
export const FIRE_NEED = '(fire)';

/** How much longer than `within` a run created ahead of its dependent's fire waits (for that fire). */
export const FIRE_GRACE_MS = 24 * 3_600_000;

const iso = (ms: number) => new Date(ms).toISOString();
const unchanged = (run: RunItem): Transition => ({ run, claims: [], retries: [] });

/** The id of the one run of dependent `schedule` for logical date `date`. */
export function dependencyRunId(schedule: string, date: string): string {
  return `${schedule}.for-${date}`;
}

/** The logical date of a run: the date it waited for, else its scheduled time's date on its schedule's clock. */
export function runLogicalDate(run: Pick<RunItem, 'scheduledTime' | 'definition' | 'dependency'>): string {
  return run.dependency?.logicalDate ?? logicalDateOf(run.scheduledTime, run.definition.timezone, run.definition.logicalDateOffsetDays ?? 0);
}

/** Whether an upstream outcome meets the status a dependent needs (`COMPLETED`: succeeded or failed). */
export function meets(outcome: RunItem['status'], status: DependencyLink['status']): boolean {
  if (status === 'COMPLETED') return outcome === 'SUCCEEDED' || outcome === 'FAILED';
  return outcome === status;
}

/** True while a run waits for upstreams (or its fire). */
export function isWaiting(run: RunItem): boolean {
  return run.dependency !== undefined && run.dependency.releasedAt === undefined && !run.dependency.expired && !isTerminalRun(run.status);
}

/** The definition of downstream `name` as a run of it needs: its own, with the part of `downstream` below it. */
export function downstreamDefinition(name: string, downstream: Record<string, BaseScheduleDefinition>): ScheduleDefinition | undefined {
  const base = downstream[name];
  if (!base) return undefined;
  const below: Record<string, BaseScheduleDefinition> = {};
  const queue = (base.dependents ?? []).map((d) => d.schedule);
  while (queue.length) {
    const next = queue.shift()!;
    const def = downstream[next];
    if (!def || next in below) continue;
    below[next] = def;
    queue.push(...(def.dependents ?? []).map((d) => d.schedule));
  }
  return Object.keys(below).length ? { ...base, downstream: below } : { ...base };
}

/** Ends the wait with every need met: the run starts as any run does (its roots claimed for `ctx.owner`). */
function releaseIfMet(run: RunItem, ctx: TransitionContext): Transition {
  const dep = run.dependency;
  if (!dep || dep.needs.length > 0 || dep.releasedAt !== undefined || !run.held || isTerminalRun(run.status)) return unchanged(run);
  const next = structuredClone(run);
  next.dependency = { ...dep, releasedAt: iso(ctx.now) };
  // Stuck-in-QUEUED counts from the release, not from the start of the wait.
  next.since = { ...next.since, QUEUED: iso(ctx.now) };
  return releaseHeld(next, ctx);
}

/** What a new dependent run starts with. */
export interface WaitStart {
  runId: string;
  date: string;
  /** The dependent's own fire created it (a run created by an upstream of a dependent with an expression still needs its fire). */
  fired: boolean;
  /** Upstreams already met: schedule -> `<run id>#<attempt>`. */
  met: Record<string, string>;
  paused?: boolean;
}

/** The item of a new dependent run: held with what it needs, or released at once when nothing is missing. */
export function newWaitingRun(input: FireInput, start: WaitStart, ctx: TransitionContext): Transition {
  const def = input.definition;
  const parameters = { ...('logicalDate' in def.parameters ? { logicalDate: start.date } : {}), ...input.parameters };
  if (start.paused) return newRun({ ...input, parameters }, { runId: start.runId, mode: 'skip', reason: 'schedule is paused' }, ctx);
  const t = newRun({ ...input, parameters }, { runId: start.runId, mode: 'hold' }, ctx);
  const needs = (def.after ?? []).map((a) => a.schedule).filter((s) => !(s in start.met));
  const waitsForFire = def.expression !== undefined && !start.fired;
  if (waitsForFire) needs.push(FIRE_NEED);
  // A run an upstream created ahead of the dependent's own fire waits a day longer: for that fire.
  const withinMs = (def.wait?.withinMinutes ?? 1440) * 60_000 + (waitsForFire ? FIRE_GRACE_MS : 0);
  t.run.dependency = { logicalDate: start.date, needs, met: start.met, until: ctx.now + withinMs };
  t.run.statusReason = waitReason(t.run);
  return releaseIfMet(t.run, ctx);
}

function waitReason(run: RunItem): string | undefined {
  const dep = run.dependency!;
  const upstreams = dep.needs.filter((n) => n !== FIRE_NEED);
  if (upstreams.length === 0) return dep.needs.length ? `waiting for its scheduled time (logical date ${dep.logicalDate})` : undefined;
  return `waiting for ${upstreams.join(', ')} (logical date ${dep.logicalDate})`;
}

/**
 * An upstream run (`ref` = `<run id>#<attempt>`) for the run's date ended as required:
 * meets that need while the run waits; re-runs a finished run when the dependent declares
 * `onUpstreamRerun: rerun` and this upstream attempt has not triggered it yet; else records nothing.
 */
export function recordUpstream(run: RunItem, upstream: string, ref: string, ctx: TransitionContext): Transition {
  const dep = run.dependency;
  if (!dep || dep.met[upstream] === ref) return unchanged(run);
  if (isWaiting(run)) {
    const next = structuredClone(run);
    next.dependency = { ...dep, needs: dep.needs.filter((n) => n !== upstream), met: { ...dep.met, [upstream]: ref } };
    next.statusReason = waitReason(next);
    if (next.statusReason === undefined) delete next.statusReason;
    const released = releaseIfMet(next, ctx);
    return released.run === next ? { run: next, claims: [], retries: [] } : released;
  }
  if (!run.finalized || run.definition.wait?.onUpstreamRerun !== 'rerun' || run.status === 'SKIPPED') return unchanged(run);
  const t = rerunRun(run, 'all', ctx);
  t.run.dependency = { ...dep, needs: [], met: { ...dep.met, [upstream]: ref }, releasedAt: iso(ctx.now) };
  delete t.run.dependency.expired;
  return t;
}

/** The dependent's own fire for the run's date arrived: its need met, the wait's clock started. */
export function recordFire(run: RunItem, scheduledTime: string, ctx: TransitionContext): Transition {
  const dep = run.dependency;
  if (!dep || !dep.needs.includes(FIRE_NEED) || !isWaiting(run)) return unchanged(run);
  const next = structuredClone(run);
  const time = new Date(scheduledTime).toISOString();
  next.scheduledTime = time;
  next.gsi1sk = runsByScheduleSort(time, run.runId);
  next.dependency = { ...dep, needs: dep.needs.filter((n) => n !== FIRE_NEED), until: ctx.now + (run.definition.wait?.withinMinutes ?? 1440) * 60_000 };
  next.statusReason = waitReason(next);
  if (next.statusReason === undefined) delete next.statusReason;
  const released = releaseIfMet(next, ctx);
  return released.run === next ? { run: next, claims: [], retries: [] } : released;
}

/** A wait past `until`: the run ends FAILED or SKIPPED (`wait.onExpiry`) and owes one alert (unless `notify.onFailure` is off). */
export function expireWait(run: RunItem, ctx: TransitionContext): Transition {
  const dep = run.dependency;
  if (!dep || !isWaiting(run) || dep.until === undefined || dep.until > ctx.now) return unchanged(run);
  const missing = dep.needs.map((n) => (n === FIRE_NEED ? 'its scheduled fire' : n));
  const minutes = run.definition.wait?.withinMinutes ?? 1440;
  const reason = `still waiting for ${missing.join(', ')} (logical date ${dep.logicalDate}) when wait.within (${formatMinutes(minutes)}) passed`;
  const t = cancelRun(run, reason, ctx);
  t.run.status = run.definition.wait?.onExpiry === 'skip' ? 'SKIPPED' : 'FAILED';
  t.run.dependency = { ...dep, expired: true };
  if (run.definition.notify.onFailure) t.run.notify = { ...t.run.notify, failure: { status: 'PENDING', tries: 0 } };
  return t;
}

function formatMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h ? `${h}h` : ''}${m || !h ? `${m}m` : ''}`;
}

/* ------------------------------------------------------------------ effects */

/**
 * The fire of a dependent schedule (a Scheduler fire, or the sweeper's repair of a lost one):
 * creates its run for the fire's logical date waiting for the upstreams, or, when an upstream
 * created it first, records the fire on it. A second fire for the same date finds the run.
 */
export async function startDependentRun(input: FireInput, deps: EngineDeps): Promise<StartResult> {
  const def = input.definition;
  const date = logicalDateOf(input.scheduledTime, def.timezone, def.logicalDateOffsetDays ?? 0);
  const runId = dependencyRunId(input.schedule, date);
  const state = await deps.store.getScheduleState(input.schedule);
  const t = newWaitingRun(input, { runId, date, fired: true, met: {}, paused: state.paused }, contextOf(deps));
  if (await deps.store.putNewRun(t.run, deps.env.retentionDays)) {
    deps.metrics.count(t.run.status === 'SKIPPED' ? 'RunsSkipped' : 'RunsStarted');
    deps.log.info(t.run.held ? 'dependent run waiting' : 'dependent run created', { schedule: input.schedule, runId, logicalDate: date, needs: t.run.dependency?.needs });
    const driven = t.run.held || t.run.status === 'SKIPPED' ? t.run : await drive(t.run, deps, t.claims);
    return { runId, status: driven.status, created: true, statusReason: driven.statusReason };
  }
  const m = await mutateRun(deps, runId, (r, ctx) => recordFire(r, input.scheduledTime, ctx));
  if (!m.run) throw new Error(`run ${runId} exists but could not be read`);
  const driven = await drive(m.run, deps, m.transition?.claims ?? []);
  return { runId, status: driven.status, created: false, statusReason: driven.statusReason };
}

/**
 * Releases what waits for `run` (an upstream run that has ended): for each dependent whose
 * needed status its outcome meets, creates the dependent's run for the run's logical date or
 * records the outcome on it, and drives it. Idempotent per upstream run attempt.
 */
export async function releaseDependents(run: RunItem, deps: EngineDeps): Promise<void> {
  const links = run.definition.dependents ?? [];
  if (links.length === 0 || run.interrupted) return;
  const date = runLogicalDate(run);
  const ref = `${run.runId}#${run.attempt ?? 1}`;
  for (const link of links) {
    if (!meets(run.status, link.status)) continue;
    const definition = downstreamDefinition(link.schedule, run.definition.downstream ?? {});
    if (!definition) {
      deps.log.warn('dependent schedule missing from the run definition; not released', { schedule: run.schedule, runId: run.runId, dependent: link.schedule });
      continue;
    }
    await releaseOne(definition, date, run.schedule, ref, deps);
  }
}

async function releaseOne(definition: ScheduleDefinition, date: string, upstream: string, ref: string, deps: EngineDeps): Promise<void> {
  const schedule = definition.name;
  const runId = dependencyRunId(schedule, date);
  const log = { schedule, runId, logicalDate: date, upstream, upstreamRun: ref };
  if (!(await deps.store.getRun(runId))) {
    const today = logicalDateOf(deps.now(), definition.timezone, definition.logicalDateOffsetDays ?? 0);
    if (definition.expression !== undefined && date < today) {
      deps.log.info('dependent run not created: its fire for that date has passed (backfill it)', log);
      return;
    }
    const state = await deps.store.getScheduleState(schedule);
    const input: FireInput = { schedule, scheduledTime: iso(deps.now()), definition, trigger: 'schedule', parameters: {} };
    const t = newWaitingRun(input, { runId, date, fired: false, met: { [upstream]: ref }, paused: state.paused }, contextOf(deps));
    if (await deps.store.putNewRun(t.run, deps.env.retentionDays)) {
      deps.metrics.count(t.run.status === 'SKIPPED' ? 'RunsSkipped' : 'RunsStarted');
      deps.log.info(t.run.held ? 'dependent run waiting' : 'dependent run released', { ...log, needs: t.run.dependency?.needs });
      if (!t.run.held && t.run.status !== 'SKIPPED') await drive(t.run, deps, t.claims);
      return;
    }
  }
  const m = await mutateRun(deps, runId, (r, ctx) => recordUpstream(r, upstream, ref, ctx));
  if (!m.changed || !m.run) return;
  deps.log.info(m.run.held ? 'dependent run: upstream met' : 'dependent run released', { ...log, needs: m.run.dependency?.needs });
  await drive(m.run, deps, m.transition?.claims ?? []);
}

/** The sweeper's part: ends a wait past `within` (one alert) and drives the run to deliver it. */
export async function expireWaiting(run: RunItem, deps: EngineDeps): Promise<boolean> {
  if (!isWaiting(run) || run.dependency?.until === undefined || run.dependency.until > deps.now()) return false;
  const m = await mutateRun(deps, run.runId, (r, ctx) => expireWait(r, ctx));
  if (!m.changed || !m.run) return false;
  deps.metrics.count('DependencyWaitsExpired');
  deps.log.warn('dependent run: wait expired', { schedule: run.schedule, runId: run.runId, status: m.run.status, reason: m.run.statusReason });
  await drive(m.run, deps);
  return true;
}

/**
 * The sweeper's missed-fire repair, for a dependent schedule: its fires of one logical date
 * share one run, whose scheduled time is the first fire's, so a later fire of the same date
 * has no run at its own time and is not missed. Keeps, of `fires`, the first of each date
 * whose run is absent or still needs its fire.
 */
export async function dependentFiresWithoutRun(schedule: string, def: ScheduleDefinition, fires: Date[], deps: EngineDeps): Promise<Date[]> {
  if (!def.after?.length) return fires;
  const seen = new Set<string>();
  const out: Date[] = [];
  for (const t of fires) {
    const date = logicalDateOf(t.getTime(), def.timezone, def.logicalDateOffsetDays ?? 0);
    if (seen.has(date)) continue;
    seen.add(date);
    const run = await deps.store.getRun(dependencyRunId(schedule, date));
    if (!run || run.dependency?.needs.includes(FIRE_NEED)) out.push(t);
  }
  return out;
}
