/**
 * Cross-schedule dependencies at package time: `after`, `logicalDate` and `wait` checked
 * across the whole config (every upstream exists, no schedule waits for itself or, through
 * others, for itself again, durations are sane), and each normalized definition linked to
 * its dependents: `dependents` names the schedules that wait for it and `downstream` carries
 * their definitions, so the engine can create a dependent's run when an upstream run ends
 * (shared/engine/dependencies.ts).
 */
import type { BaseScheduleDefinition, DependencyLink, DependencyWait, ScheduleDefinition } from './definition.ts';
import { durationMinutes } from './deadline.ts';
import type { BatchronConfig, ScheduleSpec } from './schema.ts';

/** Longest `within`: a waiting run stays in the active index (and the sweeper's work) until then. */
export const MAX_WITHIN_MINUTES = 7 * 24 * 60;
/** `within` when `wait` does not say. */
export const DEFAULT_WITHIN = '24h';

/** The Levenshtein-nearest of `names` to `name` within `max` edits (a typo), if any. */
function closest(name: string, names: string[], max: number): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const candidate of names) {
    const d = distance(name, candidate);
    if (d <= max && (!best || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The problems of `after`/`wait`/`logicalDate` across all schedules, one line each, paths first. */
export function dependencyProblems(schedules: Record<string, ScheduleSpec>): string[] {
  const problems: string[] = [];
  const names = Object.keys(schedules);
  for (const [name, spec] of Object.entries(schedules)) {
    const at = `schedules.${name}`;
    if (spec.wait && !spec.after) problems.push(`${at}.wait: applies only with after (the upstream schedules a run waits for); declare after or remove wait`);
    if (spec.wait) {
      // The same duration syntax as a deadline's `after`: hours and minutes.
      const minutes = durationMinutes(spec.wait.within);
      if (minutes === undefined) {
        problems.push(`${at}.wait.within: must be a duration such as "90m", "3h" or "1h30m" (got "${spec.wait.within}")`);
      } else if (minutes < 1 || minutes > MAX_WITHIN_MINUTES) {
        problems.push(`${at}.wait.within: must be between 1m and 168h, a week (got "${spec.wait.within}")`);
      }
    }
    if (!spec.after) continue;
    if (spec.on) problems.push(`${at}.after: a schedule with event triggers (on) cannot also wait for other schedules; use a separate schedule for each`);
    const seen = new Set<string>();
    for (const [i, dep] of spec.after.entries()) {
      const path = `${at}.after[${i}].schedule`;
      if (dep.schedule === name) {
        problems.push(`${path}: a schedule cannot wait for itself ("${name}")`);
      } else if (!(dep.schedule in schedules)) {
        const near = closest(dep.schedule, names, 2);
        problems.push(`${path}: no schedule named "${dep.schedule}"${near ? `; did you mean "${near}"?` : ` (schedules: ${names.join(', ')})`}`);
      } else if (seen.has(dep.schedule)) {
        problems.push(`${path}: "${dep.schedule}" is listed twice; list each upstream once`);
      }
      seen.add(dep.schedule);
    }
  }
  const cycle = findCycle(schedules);
  if (cycle) problems.push(`schedules: after forms a cycle (${cycle.join(' → ')}, each waiting for the one before it); a schedule cannot wait, directly or through others, for itself`);
  return problems;
}

/** One cycle of the `after` graph as a closed path (`a`, `b`, `a`), or undefined. */
export function findCycle(schedules: Record<string, Pick<ScheduleSpec, 'after'>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const dep of schedules[name]?.after ?? []) {
      if (dep.schedule === name || !(dep.schedule in schedules)) continue;
      const found = visit(dep.schedule);
      if (found) return found;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(schedules).sort()) {
    const found = visit(name);
    if (found) return found.reverse();
  }
  return undefined;
}

/** The definition fields of one schedule's own dependency settings (no links yet). */
export function dependencySettings(spec: ScheduleSpec): Pick<BaseScheduleDefinition, 'after' | 'wait' | 'logicalDateOffsetDays'> {
  const out: Pick<BaseScheduleDefinition, 'after' | 'wait' | 'logicalDateOffsetDays'> = {};
  if (spec.logicalDate?.offsetDays) out.logicalDateOffsetDays = spec.logicalDate.offsetDays;
  if (spec.after) {
    out.after = spec.after.map((a): DependencyLink => ({ schedule: a.schedule, status: a.status }));
    const wait: DependencyWait = {
      withinMinutes: durationMinutes(spec.wait?.within ?? DEFAULT_WITHIN) ?? 1440,
      onExpiry: spec.wait?.onExpiry ?? 'fail',
      onUpstreamRerun: spec.wait?.onUpstreamRerun ?? 'ignore',
    };
    out.wait = wait;
  }
  return out;
}

/** Schedules whose `after` names `name`, with the status each needs. */
export function dependentsOf(name: string, schedules: Record<string, Pick<ScheduleSpec, 'after'>>): DependencyLink[] {
  const out: DependencyLink[] = [];
  for (const [other, spec] of Object.entries(schedules)) {
    const link = spec.after?.find((a) => a.schedule === name);
    if (link) out.push({ schedule: other, status: link.status });
  }
  return out;
}

/**
 * Links `name`'s definition to what waits for it: `dependents`, and `downstream` holding the
 * base definition (`build`) of every schedule reachable through dependents. Cycles were
 * refused before; the visited set only keeps a diamond's bottom from being built twice.
 */
export function dependencyLinks(
  name: string,
  config: Pick<BatchronConfig, 'schedules'>,
  build: (schedule: string) => BaseScheduleDefinition,
): Pick<ScheduleDefinition, 'dependents' | 'downstream'> {
  const dependents = dependentsOf(name, config.schedules);
  if (dependents.length === 0) return {};
  const downstream: Record<string, BaseScheduleDefinition> = {};
  const queue = dependents.map((d) => d.schedule);
  while (queue.length) {
    const next = queue.shift()!;
    if (next in downstream || next === name) continue;
    try {
      downstream[next] = build(next);
    } catch {
      // An invalid dependent: its own problems are reported under its name.
      continue;
    }
    queue.push(...dependentsOf(next, config.schedules).map((d) => d.schedule));
  }
  return { dependents, downstream };
}

/** What starts a schedule's runs, for listings: its expression, else its upstreams, else its events. */
export function startsOn(def: Pick<ScheduleDefinition, 'expression' | 'after'>): string {
  if (def.expression !== undefined) return def.after?.length ? `${def.expression} after ${def.after.map((a) => a.schedule).join(', ')}` : def.expression;
  return def.after?.length ? `after ${def.after.map((a) => a.schedule).join(', ')}` : 'on events';
}

/**
 * The dependency fields of `name`'s definition: its own settings, and its links to what waits
 * for it: `dependents`, plus (`withDownstream`) the downstream definitions `build` gives.
 */
export function dependencyFields(
  name: string,
  spec: ScheduleSpec,
  config: Pick<BatchronConfig, 'schedules'>,
  withDownstream: boolean,
  build: (schedule: string) => BaseScheduleDefinition,
): Pick<ScheduleDefinition, 'after' | 'wait' | 'logicalDateOffsetDays' | 'dependents' | 'downstream'> {
  const dependents = dependentsOf(name, config.schedules);
  return {
    ...dependencySettings(spec),
    ...(withDownstream ? dependencyLinks(name, config, build) : dependents.length ? { dependents } : {}),
  };
}
