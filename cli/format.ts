/**
 * How the CLI shows things: tables for people (cli-table3, colours through picocolors,
 * which turns itself off when stdout is not a terminal or NO_COLOR is set) and JSON for
 * scripts (`--json`). Times print as UTC ISO-8601 without milliseconds, the form the API
 * and `next` use, plus a short relative duration where that helps.
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import { localIso } from '#shared/expressions/index';

/** Renders rows under a header; empty input prints a one-line note instead of an empty frame. */
export function table(head: string[], rows: (string | number | undefined)[][], empty = '(none)'): string {
  if (rows.length === 0) return pc.dim(empty);
  const t = new Table({
    head: head.map((h) => pc.bold(h)),
    style: { head: [], border: [] },
    wordWrap: true,
  });
  for (const row of rows) t.push(row.map((c) => (c === undefined ? '' : String(c))));
  return t.toString();
}

/** `key: value` lines, aligned, for one resource. */
export function details(pairs: [string, string | number | boolean | undefined][]): string {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${pc.dim(k.padEnd(width))}  ${String(v)}`).join('\n');
}

/** Colours a run or task status so a failure stands out in a long listing. */
export function status(s: string | undefined): string {
  switch (s) {
    case 'SUCCEEDED':
      return pc.green(s);
    case 'FAILED':
      return pc.red(s);
    case 'CANCELLED':
    case 'SKIPPED':
      return pc.yellow(s);
    case 'RUNNING':
      return pc.cyan(s);
    case undefined:
      return '';
    default:
      return s;
  }
}

/** An instant as `2026-11-23T00:00:00Z` (UTC, no milliseconds when they are zero). */
export function iso(t: string | number | Date | undefined): string {
  if (t === undefined) return '';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toISOString().replace('.000Z', 'Z');
}

/** An instant as wall-clock time in a zone with its offset, `2026-11-23 09:00 +09:00`, for schedules. */
export function inZone(t: string | number | Date, timezone: string): string {
  const [, date, hm, ss, offset] = /^(.{10})T(\d\d:\d\d):(\d\d)(.*)$/.exec(localIso(new Date(t), timezone))!;
  return `${date} ${hm}${ss === '00' ? '' : `:${ss}`} ${offset}`;
}

/** Milliseconds as `1h 02m`, `3m 05s`, `12s`, `850ms`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** Pretty JSON for `--json`, newline-terminated. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
