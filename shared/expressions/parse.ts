/**
 * Parsing and validation of EventBridge Scheduler schedule expressions, following the
 * Scheduler user guide ("Schedule types"): `cron(minutes hours day-of-month month
 * day-of-week year)`, `rate(value unit)` and `at(yyyy-mm-ddThh:mm:ss)`. Every refusal is an
 * ExpressionError whose message names the part that is wrong and what is allowed there.
 *
 * A cron expression is translated into a 7-part croner pattern (seconds first, weekdays
 * 0-6) with every plain value spelled out as a list, so the AWS-only syntax (day-of-week
 * 1-7 = SUN-SAT, `?`, wrap-around ranges such as the documented `20-2` hours, `1/10`
 * increments) never reaches croner, while croner does the calendar matching for `L`, `W`,
 * `LW`, `nL`, `n#k` and the year field.
 */

/** A schedule expression that AWS would refuse, with the reason in the message. */
export class ExpressionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExpressionError';
  }
}

export type RateUnit = 'minute' | 'minutes' | 'hour' | 'hours' | 'day' | 'days';

/** The six cron fields exactly as written. */
export interface CronFields {
  minutes: string;
  hours: string;
  dayOfMonth: string;
  month: string;
  dayOfWeek: string;
  year: string;
}

/** A wall-clock date and time, as written in an `at()` expression. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type ParsedExpression =
  | { kind: 'cron'; expression: string; fields: CronFields; /** croner 7-part pattern, evaluated on wall-clock time */ pattern: string }
  | { kind: 'rate'; expression: string; value: number; unit: RateUnit; /** the period in milliseconds */ periodMs: number }
  | { kind: 'at'; expression: string; local: LocalDateTime };

const FIELD_ORDER = 'minutes hours day-of-month month day-of-week year';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Wildcards the AWS table lists for this field. */
  wildcards: string;
  step: boolean;
  /** Whether `a-b` with a > b wraps around (the docs' `20-2` hours). */
  wrap: boolean;
}

const SPECS = {
  minutes: { name: 'minutes', min: 0, max: 59, wildcards: ', - * /', step: true, wrap: true },
  hours: { name: 'hours', min: 0, max: 23, wildcards: ', - * /', step: true, wrap: true },
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31, wildcards: ', - * ? / L W', step: true, wrap: false },
  month: { name: 'month', min: 1, max: 12, names: MONTHS, wildcards: ', - * /', step: true, wrap: true },
  dayOfWeek: { name: 'day-of-week', min: 1, max: 7, names: DAYS, wildcards: ', - * ? L #', step: false, wrap: true },
  year: { name: 'year', min: 1970, max: 2199, wildcards: ', - * /', step: true, wrap: false },
} satisfies Record<keyof CronFields, FieldSpec>;

function allowed(spec: FieldSpec): string {
  const values = spec.names
    ? `${spec.min}-${spec.max} or ${spec.names[0]}-${spec.names[spec.names.length - 1]}`
    : `${spec.min}-${spec.max}`;
  return `allowed: ${values}, wildcards ${spec.wildcards}`;
}

function fieldError(expr: string, spec: FieldSpec, text: string, problem: string): ExpressionError {
  return new ExpressionError(`${expr}: ${spec.name} field '${text}' ${problem} (${allowed(spec)})`);
}

/** Reads one value of a field: a number or, where the field has them, a name. */
function value(expr: string, spec: FieldSpec, whole: string, token: string): number {
  let n: number;
  if (/^\d+$/.test(token)) n = Number(token);
  else if (spec.names && spec.names.includes(token.toUpperCase())) n = spec.names.indexOf(token.toUpperCase()) + spec.min;
  else throw fieldError(expr, spec, whole, `has '${token}', which is not a value`);
  if (n < spec.min || n > spec.max) throw fieldError(expr, spec, whole, `has ${token}, out of range`);
  return n;
}

/** Expands a plain field (no L/W/#/?) into its sorted values. */
function expand(expr: string, spec: FieldSpec, text: string): number[] {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw fieldError(expr, spec, text, 'has an empty list item');
    const [rangePart, stepPart, extra] = item.split('/');
    if (extra !== undefined) throw fieldError(expr, spec, text, `has two '/' in '${item}'`);
    let step = 1;
    if (stepPart !== undefined) {
      if (!spec.step) throw fieldError(expr, spec, text, `uses '/', which ${spec.name} does not allow`);
      if (!/^\d+$/.test(stepPart) || Number(stepPart) < 1) {
        throw fieldError(expr, spec, text, `has increment '${stepPart}'; an increment is a whole number of at least 1`);
      }
      step = Number(stepPart);
    }
    let from: number;
    let to: number;
    if (rangePart === '*') {
      from = spec.min;
      to = spec.max;
    } else if (rangePart!.includes('-')) {
      const [a, b, more] = rangePart!.split('-');
      if (more !== undefined || !a || !b) throw fieldError(expr, spec, text, `has a malformed range '${rangePart}'`);
      from = value(expr, spec, text, a);
      to = value(expr, spec, text, b);
      if (from > to && !spec.wrap) throw fieldError(expr, spec, text, `has range ${rangePart}, which runs backwards`);
    } else {
      from = value(expr, spec, text, rangePart!);
      // `1/10` means from 1 to the end of the field, every 10th.
      to = stepPart !== undefined ? spec.max : from;
    }
    const span = spec.max - spec.min + 1;
    const count = from <= to ? to - from : to + span - from;
    for (let i = 0; i <= count; i += step) out.add(((from - spec.min + i) % span) + spec.min);
  }
  return [...out].sort((a, b) => a - b);
}

function parseCron(expr: string, body: string): ParsedExpression {
  const parts = body.trim().split(/\s+/).filter((p) => p !== '');
  if (parts.length !== 6) {
    throw new ExpressionError(`${expr} needs 6 fields (${FIELD_ORDER}), got ${parts.length}`);
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [string, string, string, string, string, string];
  const fields: CronFields = { minutes, hours, dayOfMonth, month, dayOfWeek, year };

  const domAny = dayOfMonth === '?';
  const dowAny = dayOfWeek === '?';
  if (domAny && dowAny) {
    throw new ExpressionError(`${expr}: only one of day-of-month and day-of-week can be '?'; give the other a value or *`);
  }
  if (!domAny && !dowAny) {
    throw new ExpressionError(
      `${expr}: day-of-month and day-of-week cannot both be set; use '?' in one of them (e.g. cron(0 10 * * ? *) or cron(0 18 ? * MON-FRI *))`,
    );
  }
  for (const [key, text] of Object.entries(fields) as [keyof CronFields, string][]) {
    if (text.includes('?') && text !== '?') throw fieldError(expr, SPECS[key], text, "mixes '?' with other values");
    if (text === '?' && key !== 'dayOfMonth' && key !== 'dayOfWeek') throw fieldError(expr, SPECS[key], text, "uses '?'");
  }

  const list = (key: 'minutes' | 'hours' | 'month', offset = 0) =>
    expand(expr, SPECS[key], fields[key]).map((n) => n + offset).join(',');

  const min = list('minutes');
  const hr = list('hours');
  const mon = list('month');
  const yr = year === '*' ? '*' : expand(expr, SPECS.year, year).join(',');
  const dom = domAny ? '*' : dayOfMonthPattern(expr, dayOfMonth);
  const dow = dowAny ? '*' : dayOfWeekPattern(expr, dayOfWeek);
  const pattern = `0 ${min} ${hr} ${dom} ${mon} ${dow} ${yr}`;
  return { kind: 'cron', expression: expr, fields, pattern };
}

function dayOfMonthPattern(expr: string, text: string): string {
  const spec = SPECS.dayOfMonth;
  const upper = text.toUpperCase();
  if (upper === 'L' || upper === 'LW') return upper;
  const w = /^(\d+)W$/.exec(upper);
  if (w) {
    value(expr, spec, text, w[1]!);
    return `${Number(w[1])}W`;
  }
  if (/[LW#]/i.test(text)) {
    throw fieldError(expr, spec, text, "uses L or W in a way AWS does not: L, LW and nW (e.g. 15W) stand alone in the field");
  }
  return expand(expr, spec, text).join(',');
}

function dayOfWeekPattern(expr: string, text: string): string {
  const spec = SPECS.dayOfWeek;
  const upper = text.toUpperCase();
  // AWS numbers weekdays 1-7 from Sunday; croner numbers them 0-6.
  const toCroner = (n: number) => n - 1;
  if (upper === 'L') return String(toCroner(7)); // the last day of the week: Saturday
  const last = /^([A-Z]+|\d+)L$/.exec(upper);
  if (last) return `${toCroner(value(expr, spec, text, last[1]!))}L`;
  if (text.includes('#')) {
    if (text.includes(',')) {
      throw fieldError(expr, spec, text, "combines '#' with a list; with '#' the field holds one expression (e.g. 3#2)");
    }
    const m = /^([A-Z]+|\d+)#(\d+)$/.exec(upper);
    if (!m) throw fieldError(expr, spec, text, "has a malformed '#'; write weekday#n, e.g. 3#2 for the second Tuesday");
    const nth = Number(m[2]);
    if (nth < 1 || nth > 5) throw fieldError(expr, spec, text, `asks for occurrence ${m[2]}; a month has occurrences 1-5`);
    return `${toCroner(value(expr, spec, text, m[1]!))}#${nth}`;
  }
  // No weekday name contains an L, so any L left here is misplaced.
  if (/L/i.test(text)) {
    throw fieldError(expr, spec, text, "uses L in a way AWS does not: L alone, or weekdayL (e.g. 6L, the last Friday)");
  }
  return expand(expr, spec, text).map(toCroner).join(',');
}

const RATE_UNITS: Record<RateUnit, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

function parseRate(expr: string, body: string): ParsedExpression {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(body);
  if (!m) throw new ExpressionError(`${expr} needs a value and a unit, e.g. rate(5 minutes)`);
  const [, rawValue, rawUnit] = m as unknown as [string, string, string];
  if (!/^\d+$/.test(rawValue) || Number(rawValue) < 1) {
    throw new ExpressionError(`${expr}: the value '${rawValue}' must be a positive whole number`);
  }
  const value = Number(rawValue);
  if (!(rawUnit in RATE_UNITS)) {
    throw new ExpressionError(`${expr}: the unit '${rawUnit}' is not one of minute, minutes, hour, hours, day, days`);
  }
  const unit = rawUnit as RateUnit;
  const plural = unit.endsWith('s');
  if (value === 1 && plural) throw new ExpressionError(`${expr}: a value of 1 takes the singular unit (rate(1 ${unit.slice(0, -1)}))`);
  if (value > 1 && !plural) throw new ExpressionError(`${expr}: a value above 1 takes the plural unit (rate(${value} ${unit}s))`);
  return { kind: 'rate', expression: expr, value, unit, periodMs: value * RATE_UNITS[unit] };
}

function parseAt(expr: string, body: string): ParsedExpression {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!m) throw new ExpressionError(`${expr} must be at(yyyy-mm-ddThh:mm:ss), e.g. at(2026-11-23T16:00:00), with no zone or fraction`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new ExpressionError(`${expr} is not a real date and time`);
  }
  return { kind: 'at', expression: expr, local: { year, month, day, hour, minute, second } };
}

/** Parses a schedule expression; throws ExpressionError saying what is wrong and what is allowed. */
export function parseExpression(expr: string): ParsedExpression {
  if (typeof expr !== 'string' || expr.trim() === '') {
    throw new ExpressionError('A schedule expression is required: cron(...), rate(...) or at(...)');
  }
  if (expr.length > 256) throw new ExpressionError(`The schedule expression is ${expr.length} characters long; the limit is 256`);
  const m = /^(cron|rate|at)\((.*)\)$/.exec(expr);
  if (!m) {
    throw new ExpressionError(
      `'${expr}' is not a schedule expression; use cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)`,
    );
  }
  const [, kind, body] = m as unknown as [string, 'cron' | 'rate' | 'at', string];
  if (kind === 'cron') return parseCron(expr, body);
  if (kind === 'rate') return parseRate(expr, body);
  return parseAt(expr, body);
}
