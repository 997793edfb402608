/**
 * Time-zone arithmetic on top of Intl: what a zone's wall clock reads at an instant, and
 * which instants a wall-clock reading names (none in a spring-forward gap, two in an
 * autumn repeat). Wall-clock readings are carried as "fake UTC" epoch milliseconds
 * (`Date.UTC(y, m, d, h, mi, s)`), so calendar maths on them never meets a DST rule.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** IANA names only (`Area/Location`, `UTC`, `Etc/GMT+5`); offsets such as `+02:00` are not zones to AWS. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/** True when `tz` is an IANA time zone name this runtime knows (what ScheduleExpressionTimezone accepts). */
export function isValidTimezone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 50 || !ZONE_NAME.test(tz)) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at instant `t`, in milliseconds (New York in winter: -5 h). */
export function offsetAt(t: number, tz: string): number {
  if (tz === 'UTC' || tz === 'Etc/UTC') return 0;
  const seconds = Math.floor(t / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(seconds))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - seconds;
}

/** The wall-clock reading (fake-UTC ms) of instant `t` in `tz`. */
export function wallClockOf(t: number, tz: string): number {
  return t + offsetAt(t, tz);
}

/**
 * Every instant at which the zone's clock reads `wall`, earliest first: one normally,
 * none inside a spring-forward gap, two inside an autumn repeat.
 */
export function instantsOf(wall: number, tz: string): number[] {
  const DAY = 86_400_000;
  // A transition moves the offset at most once within a day either side of the reading,
  // so the offsets in force a day before, at, and a day after cover every candidate.
  const offsets = new Set([offsetAt(wall - DAY, tz), offsetAt(wall, tz), offsetAt(wall + DAY, tz)]);
  const out: number[] = [];
  for (const o of offsets) {
    const t = wall - o;
    if (offsetAt(t, tz) === o && !out.includes(t)) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

/**
 * One instant for a wall-clock reading, the way a one-time schedule needs it: the earlier
 * of a repeated time, and a time inside a gap pushed forward by the gap's length
 * (02:30 on a spring-forward night in New York is 03:30 EDT), so it still fires.
 */
export function instantOfCompatible(wall: number, tz: string): number {
  const found = instantsOf(wall, tz);
  if (found.length > 0) return found[0]!;
  return wall - offsetAt(wall - 86_400_000, tz);
}

/** Wall-clock form of an instant in a zone: `2026-11-23T09:00:00+09:00`. */
export function localIso(t: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const offset = get('timeZoneName').replace(/^GMT/, '') || '+00:00';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}${offset}`;
}
