/**
 * Things in a valid config that are probably not what the author meant: reported as
 * warnings by `batchron validate` and `npm start`, never refused (AWS accepts them).
 *
 * Day-of-week numbers: EventBridge Scheduler's cron counts 1 = Sunday .. 7 = Saturday, while
 * Unix cron counts 0 (or 7) = Sunday, 1 = Monday. `cron(0 9 ? * 1-5 *)` copied from a crontab
 * meant Monday to Friday and fires Sunday to Thursday on AWS.
 */
import type { BatchronConfig } from './schema.ts';

const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The day-of-week field of a `cron(...)` expression (its fifth of six fields), if any. */
function dayOfWeekField(expression: string): string | undefined {
  const m = /^\s*cron\((.*)\)\s*$/.exec(expression);
  const fields = m?.[1]!.trim().split(/\s+/);
  return fields?.length === 6 ? fields[4] : undefined;
}

/** Rewrites each day number (not an `#n` occurrence) with `name`. */
function renameDays(field: string, name: (n: number) => string): string {
  return field.replace(/(#)?(\d+)/g, (whole, hash: string | undefined, digits: string) => (hash ? whole : name(Number(digits))));
}

/**
 * A warning when the day-of-week of a cron expression is written with numbers: what they
 * mean on AWS (1 = Sunday) and what they would mean in Unix cron, with the names to write.
 */
export function dayOfWeekWarning(expression: string): string | undefined {
  const dow = dayOfWeekField(expression);
  if (!dow || !/\d/.test(dow.replace(/#\d+/g, ''))) return undefined;
  const unix = renameDays(dow, (n) => DAYS[n % 7] ?? String(n));
  const aws = renameDays(dow, (n) => (n >= 1 && n <= 7 ? DAYS[n - 1]! : String(n)));
  const onAws = /(^|[^#\d])0($|[^\d])/.test(dow) ? 'AWS has no day 0' : `on AWS it means ${aws}`;
  return `day-of-week "${dow}" uses AWS numbering, 1 = Sunday .. 7 = Saturday: ${onAws}; in Unix cron (0 = Sunday, 1 = Monday) it would mean ${unix}. Write day names (e.g. ${unix}) to say which you mean`;
}

/** Every warning for a parsed config, one line each, naming the schedule and the field. */
export function configWarnings(config: Pick<BatchronConfig, 'schedules'>): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(config.schedules)) {
    const warning = spec.expression === undefined ? undefined : dayOfWeekWarning(spec.expression);
    if (warning) out.push(`schedules.${name}.expression: ${warning}`);
  }
  return out;
}
