/**
 * How the CLI shows things: tables for people (cli-table3, colours through picocolors,
 * which turns itself off when stdout is not a terminal or NO_COLOR is set) and JSON for
 * scripts (`--json`). Times print as UTC ISO-8601 without milliseconds, the form the API
 * and `next` use, plus a short relative duration where that helps.
 */
import Table from 'cli-table3';
import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';
import wrapAnsi from 'wrap-ansi';
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

/* ------------------------------------------------------------------ tables that fit the terminal */

/** A column of `fitTable`. */
export interface FitColumn {
  head: string;
  /**
   * When the table is too wide, columns with a `drop` rank go first, the highest rank first
   * (as kubectl leaves out its wide columns); columns without one are kept and wrapped.
   */
  drop?: number;
  /** Free text that may wrap onto several lines (reasons, descriptions); other columns (ids, times) never wrap. */
  wrap?: boolean;
  /** The narrowest a `wrap` column is wrapped to (default 20). */
  minWidth?: number;
}

/** The width tables are fitted to: the terminal's when stdout is one, else 100 columns. */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY && stream.columns && stream.columns > 20 ? stream.columns : 100;
}

const visible = (s: string) => Math.max(0, ...stripVTControlCharacters(s).split('\n').map((l) => l.length));

/**
 * A table no wider than `width` (default: `terminalWidth()`): columns are dropped by their
 * `drop` rank until the rest fit at their natural width, then the widest columns are wrapped
 * (long words broken) until the table fits. Empty input prints a one-line note.
 */
export function fitTable(columns: FitColumn[], rows: (string | number | undefined)[][], opts: { width?: number; empty?: string } = {}): string {
  if (rows.length === 0) return pc.dim(opts.empty ?? '(none)');
  const width = opts.width ?? terminalWidth();
  const cells = rows.map((row) => columns.map((_, i) => (row[i] === undefined ? '' : String(row[i]))));
  const natural = columns.map((c, i) => Math.max(visible(c.head), ...cells.map((r) => visible(r[i]!))));
  // Each column costs its content plus one space each side, and one border character.
  const total = (keep: number[], widths: number[]) => keep.reduce((sum, i) => sum + widths[i]! + 3, 1);
  // Wrapping columns count at their narrowest while deciding what to drop.
  const narrowest = natural.map((w, i) => (columns[i]!.wrap ? Math.min(w, columns[i]!.minWidth ?? 20) : w));
  let keep = columns.map((_, i) => i);
  const droppable = keep.filter((i) => columns[i]!.drop !== undefined).sort((a, b) => columns[b]!.drop! - columns[a]!.drop! || b - a);
  for (const i of droppable) {
    if (total(keep, narrowest) <= width) break;
    keep = keep.filter((k) => k !== i);
  }
  const widths = [...natural];
  // Narrow the widest column until the table fits: wrapping columns down to their minimum
  // first, then below it, and only then (a very narrow terminal) the others, whose long
  // values (ids) are then wrapped, never cut.
  const floors = [narrowest, narrowest.map((w, i) => (columns[i]!.wrap ? Math.min(w, 8) : w)), natural.map((w) => Math.min(w, 8))];
  for (const floor of floors) {
    while (total(keep, widths) > width) {
      const widest = keep.filter((i) => widths[i]! > floor[i]!).sort((a, b) => widths[b]! - widths[a]!)[0];
      if (widest === undefined) break;
      widths[widest]! -= 1;
    }
  }
  const t = new Table({
    head: keep.map((i) => pc.bold(columns[i]!.head)),
    style: { head: [], border: [] },
    colWidths: keep.map((i) => widths[i]! + 2),
  });
  // Wrapped here, at word boundaries and inside words longer than the column (a zone name, a
  // path), colours kept: cli-table3 would cut such a word short with an ellipsis.
  for (const row of cells) t.push(keep.map((i) => (visible(row[i]!) > widths[i]! ? wrapAnsi(row[i]!, widths[i]!, { hard: true }) : row[i]!)));
  return t.toString();
}
