/**
 * A schedule's deadline (SLA), as written in serverless.yml and as kept in the normalized
 * definition:
 *
 * - `deadline: { at: "06:00", timezone?, forLogicalDate: same | previous }`: the run for
 *   logical date D (shared/engine/logical-date.ts) must have succeeded by 06:00 on D
 *   (`same`, the default) or on the day after D (`previous`: at 06:00 the run for
 *   *yesterday* must be done), on the clock of `timezone` (default: the schedule's);
 * - `deadline: { after: "90m" }`: each fire's run must have succeeded within that long of
 *   its scheduled time.
 *
 * The engine side (when a deadline falls, what is alerted) is shared/engine/deadline.ts.
 * zod/mini (../zod.ts): the definition schema travels in every engine function's bundle.
 */
import * as z from '../zod.ts';
import { isValidTimezone } from '../expressions/zone.ts';

/** `HH:MM`, 00:00-23:59. */
export const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** `90m`, `2h`, `1h30m`. */
const DURATION = /^(?:(\d{1,3})h)?(?:(\d{1,5})m)?$/;
/** The longest `after`: a week (the sweeper looks back that far at most). */
export const MAX_AFTER_MINUTES = 7 * 24 * 60;

/** `deadline:` as written; the cross-field rules are in `deadlineProblems`. */
export const DeadlineSpecSchema = z.strictObject({
  /** Time of day, `HH:MM`, by which the run for the logical date must have succeeded. */
  at: z.optional(z.string().check(z.regex(TIME_OF_DAY, 'must be a time of day as HH:MM between 00:00 and 23:59, e.g. "06:00"'))),
  /** IANA zone of `at`; absent = the schedule's time zone. */
  timezone: z.optional(z.string().check(z.minLength(1))),
  /** `same`: `at` on the logical date itself; `previous`: `at` on the day after it (the run for yesterday). */
  forLogicalDate: z.optional(z.enum(['same', 'previous'])),
  /** A duration after each fire's scheduled time: `90m`, `2h`, `1h30m`. */
  after: z.optional(z.string().check(z.regex(DURATION, 'must be a duration such as "90m", "2h" or "1h30m"'))),
});
export type DeadlineSpec = z.infer<typeof DeadlineSpecSchema>;

/** The normalized deadline inside a schedule definition. */
export const DeadlineDefinitionSchema = z.union([
  z.object({
    at: z.string().check(z.regex(TIME_OF_DAY)),
    timezone: z.string().check(z.minLength(1)),
    forLogicalDate: z.enum(['same', 'previous']),
  }),
  z.object({ afterMinutes: z.number().check(z.int(), z.minimum(1), z.maximum(MAX_AFTER_MINUTES)) }),
]);
export type DeadlineDefinition = z.infer<typeof DeadlineDefinitionSchema>;

/** Minutes in a duration such as `1h30m`; undefined when it is not one. */
export function durationMinutes(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/**
 * What is wrong with a schedule's `deadline` (each line `<path>: <problem>`), the zod shape
 * already checked. `hasExpression`: deadlines are checked against the schedule's series,
 * which a schedule started only by events does not have.
 */
export function deadlineProblems(path: string, spec: DeadlineSpec, hasExpression: boolean): string[] {
  const problems: string[] = [];
  if (spec.at !== undefined && spec.after !== undefined) {
    problems.push(`${path}: declare either at (a time of day, for a logical date) or after (a duration after each scheduled time), not both`);
  } else if (spec.at === undefined && spec.after === undefined) {
    problems.push(`${path}: needs at (a time of day such as "06:00") or after (a duration such as "90m")`);
  }
  if (spec.after !== undefined) {
    if (spec.timezone !== undefined) problems.push(`${path}.timezone: applies only to at; after counts from each scheduled time`);
    if (spec.forLogicalDate !== undefined) problems.push(`${path}.forLogicalDate: applies only to at; after is per fire`);
    const minutes = durationMinutes(spec.after);
    if (minutes === undefined) problems.push(`${path}.after: must be a duration such as "90m", "2h" or "1h30m"`);
    else if (minutes < 1 || minutes > MAX_AFTER_MINUTES) problems.push(`${path}.after: must be between 1 minute and 7 days (got "${spec.after}")`);
  }
  if (spec.timezone !== undefined && !isValidTimezone(spec.timezone)) {
    const near = Intl.supportedValuesOf('timeZone').find((z) => z.toLowerCase() === spec.timezone!.toLowerCase());
    problems.push(`${path}.timezone: unknown time zone "${spec.timezone}" (use an IANA name such as "${near ?? 'Europe/Berlin'}")`);
  }
  if (!hasExpression) {
    problems.push(`${path}: needs the schedule's expression (cron, rate or at): deadlines are checked against its scheduled times, and a schedule started only by events has none`);
  }
  return problems;
}

/** The normalized deadline of a schedule whose `deadline` passed `deadlineProblems`. */
export function normalizeDeadline(spec: DeadlineSpec, scheduleTimezone: string): DeadlineDefinition {
  if (spec.after !== undefined) return { afterMinutes: durationMinutes(spec.after)! };
  return { at: spec.at!, timezone: spec.timezone ?? scheduleTimezone, forLogicalDate: spec.forLogicalDate ?? 'same' };
}
