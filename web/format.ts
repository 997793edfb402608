/** Pure formatting helpers of the dashboard (unit-tested in test/unit/web-format.test.ts). */

/** `1h 02m`, `3m 05s`, `42s`, `850 ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `in 3m 05s` / `4m 10s ago`. */
export function relative(target: number, now: number): string {
  const d = target - now;
  return d >= 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}

const UNITS: Record<string, string> = { minute: 'minute', minutes: 'minutes', hour: 'hour', hours: 'hours', day: 'day', days: 'days' };
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function pad2(n: string): string {
  return n.padStart(2, '0');
}

/**
 * A schedule expression in words, for the common shapes; anything else is shown as
 * written. `rate(5 minutes)` -> "every 5 minutes"; `cron(0 2 * * ? *)` -> "daily at 02:00";
 * `cron(*\/2 * * * ? *)` -> "every 2 minutes"; `at(2026-12-01T09:00:00)` -> "once at …".
 */
export function expressionInWords(expression: string): string {
  const rate = /^rate\((\d+)\s+(\w+)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = UNITS[rate[2]!] ?? rate[2]!;
    return n === 1 ? `every ${unit.replace(/s$/, '')}` : `every ${n} ${unit.endsWith('s') ? unit : `${unit}s`}`;
  }
  const at = /^at\(([^)]+)\)$/.exec(expression.trim());
  if (at) return `once at ${at[1]!.replace('T', ' ')}`;
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) return expression;
  const f = cron[1]!.trim().split(/\s+/);
  if (f.length !== 6) return expression;
  const [min, hour, dom, month, dow, year] = f as [string, string, string, string, string, string];
  const everyDay = (dom === '*' || dom === '?') && (dow === '*' || dow === '?') && month === '*' && year === '*';
  if (min === '*' && hour === '*' && everyDay) return 'every minute';
  const stepMin = /^\*\/(\d+)$/.exec(min) ?? /^0\/(\d+)$/.exec(min);
  if (stepMin && hour === '*' && everyDay) return `every ${stepMin[1]} minutes`;
  if (/^\d+$/.test(min) && hour === '*' && everyDay) return `hourly at :${pad2(min)}`;
  if (/^\d+$/.test(min) && /^\d+$/.test(hour)) {
    const time = `${pad2(hour)}:${pad2(min)}`;
    if (everyDay) return `daily at ${time}`;
    if ((dom === '?' || dom === '*') && month === '*' && year === '*') {
      if (dow === 'MON-FRI' || dow === '2-6') return `weekdays at ${time}`;
      const d = /^(\d)$/.exec(dow);
      if (d) return `${DAYS[Number(d[1]) - 1] ?? dow}s at ${time}`;
      const named = /^(MON|TUE|WED|THU|FRI|SAT|SUN)$/.exec(dow);
      if (named) return `${DAYS[['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'].indexOf(named[1]!)]}s at ${time}`;
    }
    if (/^\d+$/.test(dom) && month === '*' && (dow === '?' || dow === '*') && year === '*') return `monthly on day ${dom} at ${time}`;
  }
  return expression;
}

/** The median of some numbers (undefined for none). */
export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
}

/** `2026-11-30 14:05:09` in the browser's zone (people read their own clock). */
export function localTime(iso: string | number | undefined): string {
  if (iso === undefined) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);

/**
 * Layers of a task graph (longest path from a root), so the DAG reads left to right with
 * every task right of what it depends on. Unknown dependencies are ignored.
 */
export function layers(tasks: { name: string; dependsOn: string[] }[]): string[][] {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const depth = new Map<string, number>();
  const visit = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // a cycle cannot be declared; be safe anyway
    seen.add(name);
    const deps = (byName.get(name)?.dependsOn ?? []).filter((d) => byName.has(d));
    const d = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((x) => visit(x, seen)));
    depth.set(name, d);
    return d;
  };
  const out: string[][] = [];
  for (const t of tasks) {
    const d = visit(t.name, new Set());
    (out[d] ??= []).push(t.name);
  }
  return out.map((l) => l ?? []);
}

/** One bar of a run's Gantt chart. */
export interface GanttSegment {
  row: string;
  kind: 'queued' | 'running' | 'retry-wait';
  start: number;
  end: number;
  status: string;
  label: string;
}

/**
 * The Gantt segments of a run: per attempt, the time queued in Batch (submitted to
 * started) and running (started to stopped, or to now); between attempts of a task, the
 * retry wait (previous stop to next submission, or to the retry time still ahead).
 */
export function ganttSegments(
  tasks: { name: string; status: string; retryAt?: string; attempts: { attempt: number; status: string; exitCode?: number; submittedAt?: string; startedAt?: string; stoppedAt?: string }[] }[],
  now: number,
): GanttSegment[] {
  const t = (s?: string) => (s ? Date.parse(s) : undefined);
  const out: GanttSegment[] = [];
  for (const task of tasks) {
    let prevStop: number | undefined;
    for (const a of task.attempts) {
      const submitted = t(a.submittedAt);
      const started = t(a.startedAt);
      const stopped = t(a.stoppedAt);
      const label = `${task.name} attempt ${a.attempt}`;
      if (prevStop !== undefined && submitted !== undefined && submitted > prevStop) {
        out.push({ row: task.name, kind: 'retry-wait', start: prevStop, end: submitted, status: 'WAITING', label: `${task.name} retry wait before attempt ${a.attempt}` });
      }
      if (submitted !== undefined) {
        const end = started ?? stopped ?? now;
        if (end > submitted) out.push({ row: task.name, kind: 'queued', start: submitted, end, status: a.status, label: `${label} queued` });
      }
      if (started !== undefined) {
        out.push({ row: task.name, kind: 'running', start: started, end: stopped ?? now, status: a.status, label: `${label} ${a.status}${a.exitCode !== undefined ? ` exit ${a.exitCode}` : ''}` });
      }
      prevStop = stopped ?? prevStop;
    }
    const retryAt = t(task.retryAt);
    if (prevStop !== undefined && retryAt !== undefined && retryAt > prevStop) {
      out.push({ row: task.name, kind: 'retry-wait', start: prevStop, end: Math.max(now, prevStop), status: 'WAITING', label: `${task.name} waiting to retry at ${new Date(retryAt).toISOString()}` });
    }
  }
  return out;
}
