/**
 * Deterministic names. The same fire, task and attempt always yield the same run id, Batch
 * job name and retry-schedule name, which is what lets a re-delivery or a Lambda retry find
 * what an earlier (possibly crashed) invocation already did instead of doing it twice.
 */
import { createHash } from 'node:crypto';
import { compactUtc } from '../time.ts';

const hash = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * Run id of a fire: `<schedule>.<yyyymmddThhmmssZ>` for scheduled and backfill runs (one
 * per schedule and scheduled time), `<schedule>.adhoc-<hash of the idempotency key>` for ad
 * hoc runs, so retrying an API call with the same key finds the same run;
 * `<schedule>.event-<hash>` for event-triggered runs (the key is the trigger and the event's
 * idempotency key, or the batch window), so a redelivered event finds the same run.
 */
export function runIdFor(input: { schedule: string; scheduledTime: string }, idempotencyKey?: string, kind: 'adhoc' | 'event' = 'adhoc'): string {
  if (idempotencyKey !== undefined) return `${input.schedule}.${kind}-${hash(`${input.schedule}\n${idempotencyKey}`, 20)}`;
  return `${input.schedule}.${compactUtc(input.scheduledTime)}`;
}

const JOB_NAME_MAX = 128;

/**
 * Batch job name `<deployment>_<run>-<task>-<attempt>` ([A-Za-z0-9_-], ≤ 128 chars; the
 * run id's `.` becomes `-`). When a part holds other characters or the name is too long,
 * the readable prefix is kept and a hash of the exact parts is appended, so two different
 * attempts never share a name. The `_` after the deployment cannot occur in a deployment
 * name (osls service and stage names are letters, digits and `-`), so the job-events rule's
 * `<deployment>_` prefix never matches another stage's jobs (`dev` and `dev-2`).
 */
export function jobName(deployment: string, runId: string, task: string, attempt: number): string {
  const raw = `${deployment}_${runId.replace(/\.(?=[^.]*$)/, '-')}-${task}-${attempt}`;
  if (/^[A-Za-z0-9_-]+$/.test(raw) && raw.length <= JOB_NAME_MAX) return raw;
  const suffix = `-${hash(JSON.stringify([deployment, runId, task, attempt]), 12)}-${attempt}`;
  const readable = raw.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, JOB_NAME_MAX - suffix.length);
  return `${readable}${suffix}`;
}

/**
 * Name of the one-time schedule that submits a deferred attempt at its reserved slot; the
 * deferral's number keeps a re-deferral of the same attempt from colliding with the first.
 */
export function deferralScheduleName(deployment: string, runId: string, task: string, attempt: number, deferral: number): string {
  return oneTimeScheduleName(deployment, task, [deployment, runId, task, attempt, 'defer', deferral], 20, `${attempt}d${deferral}`);
}

/**
 * Name of the one-time schedule that starts attempt `attempt` of a task (≤ 64 chars,
 * [0-9A-Za-z_.-]). Creating it twice answers ConflictException, which means "already scheduled".
 */
export function retryScheduleName(deployment: string, runId: string, task: string, attempt: number): string {
  return oneTimeScheduleName(deployment, task, [deployment, runId, task, attempt], 24, String(attempt));
}

/**
 * The first character of every schedule Batchron creates for itself in the deployment's
 * group (the sweeper, one-time retries and deferrals). Names a user declares or an API
 * caller creates start with a letter or digit (config/schema.ts NameSchema, and the API
 * refuses this prefix by name), so no one can take a name the engine will need: a
 * dynamic schedule named like a coming retry would otherwise make CreateSchedule answer
 * ConflictException, which the engine reads as "the retry is already scheduled".
 */
export const RESERVED_SCHEDULE_PREFIX = '_';

/** Whether `name` belongs to Batchron's own schedules (see RESERVED_SCHEDULE_PREFIX). */
export function isReservedScheduleName(name: string): boolean {
  return name.startsWith(RESERVED_SCHEDULE_PREFIX);
}

/** Name of the one-time schedule that closes batch window `window` of a schedule's trigger. */
export function windowCloseScheduleName(deployment: string, schedule: string, trigger: number, window: number): string {
  return oneTimeScheduleName(deployment, `${schedule}-w`, [deployment, schedule, trigger, window, 'window'], 20, 'w');
}

/**
 * The reserved prefix, `<deployment>-<task>` made safe and cut to 29 chars, a hash of `key`,
 * then `suffix`: within Scheduler's 64.
 */
function oneTimeScheduleName(deployment: string, task: string, key: unknown[], hashLength: number, suffix: string): string {
  const readable = `${deployment}-${task}`.replace(/[^0-9A-Za-z_.-]/g, '_').slice(0, 29);
  return `${RESERVED_SCHEDULE_PREFIX}${readable}-${hash(JSON.stringify(key), hashLength)}-${suffix}`;
}
