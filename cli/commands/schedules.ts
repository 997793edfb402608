/**
 * The schedule commands: `schedules`, `pause`, `resume`, `backfill`.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { Command, Option } from 'commander';
import pc from 'picocolors';
import { action, clientFor, IsoInstant, parseFlag, PositiveInt, seg, UsageError, withApiOptions, type ApiOptions } from './common.ts';
import { details, fitTable, inZone, iso, json, status, table } from '#cli/format';
import type { DeadlineView } from '#shared/engine/deadline';

/** How the last deadline went, coloured: met green, missed red, met late yellow. */
function deadlineState(state: NonNullable<DeadlineView['last']>['state']): string {
  return state === 'met' ? pc.green(state) : state === 'missed' ? pc.red(state) : pc.yellow(state);
}

/** The deadline of a schedule in one cell: the next one, then how the last went. */
function deadlineCell(d: DeadlineView | undefined): string {
  if (!d) return '';
  const next = d.next ? `next ${iso(d.next.at)}` : 'no next';
  return d.last ? `${next}; last ${deadlineState(d.last.state)}${pc.dim(` (${d.last.logicalDate ?? iso(d.last.scheduledTime ?? d.last.at)})`)}` : next;
}

interface Schedule {
  name: string;
  /** Absent from an API older than the `source` field: `origin` says the same. */
  source?: 'declared' | 'dynamic';
  origin: 'declared' | 'api';
  expression: string;
  /** `events`: started only by its `on:` event triggers (no expression, no next fire). Absent from an older API. */
  firedBy?: 'time' | 'events';
  timezone: string;
  enabled: boolean;
  paused: boolean;
  nextFireTimes: string[];
  lastRun?: { runId: string; scheduledTime?: string; outcome?: string };
  description?: string;
  /** Present for a schedule with a deadline (shared/engine/deadline.ts DeadlineViewSchema). */
  deadline?: DeadlineView;
  tasks: { name: string; dependsOn: string[]; jobDefinition: string; jobQueue: string; command: string[] | null; commandFrom: 'schedule' | 'jobDefinition' }[];
}

/** A command as one line a person can read and paste (arguments with spaces or quotes quoted). */
function commandLine(command: string[] | null): string {
  if (command === null) return pc.dim('(job definition not found)');
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** What a schedule runs, for the listing: its one task's command, or the first of several. */
function commandCell(s: Schedule): string {
  const first = s.tasks?.[0];
  if (!first) return '';
  const more = s.tasks.length > 1 ? pc.dim(` (+${s.tasks.length - 1} task${s.tasks.length > 2 ? 's' : ''})`) : '';
  return `${commandLine(first.command)}${first.commandFrom === 'schedule' ? pc.yellow(' (override)') : ''}${more}`;
}

/** A trigger-only schedule has no fire times: it runs on events. */
const onEvents = (s: Schedule) => s.firedBy === 'events';

/** One schedule in full: its fields, then each task with the command it runs. */
function scheduleDetails(s: Schedule): string {
  const head = details([
    ['schedule', s.name + (s.origin === 'api' ? ' (api)' : '')],
    ['description', s.description],
    ['expression', onEvents(s) ? `(none: on events) ${s.timezone}` : `${s.expression} ${s.timezone}`],
    ['state', s.paused ? 'paused' : s.enabled ? 'active' : 'disabled'],
    ['next fire', onEvents(s) ? 'on events' : s.nextFireTimes[0] ? `${iso(s.nextFireTimes[0])} (${inZone(s.nextFireTimes[0], s.timezone)})` : 'none'],
    ['last run', s.lastRun ? `${s.lastRun.outcome ?? 'running'} ${s.lastRun.runId}` : undefined],
    ['deadline', s.deadline?.rule],
    ['next deadline', s.deadline ? (s.deadline.next ? `${iso(s.deadline.next.at)} (${s.deadline.next.atLocal})${s.deadline.next.logicalDate ? ` for ${s.deadline.next.logicalDate}` : ''}` : 'none') : undefined],
    [
      'last deadline',
      s.deadline?.last
        ? `${deadlineState(s.deadline.last.state)} ${iso(s.deadline.last.at)}${s.deadline.last.logicalDate ? ` for ${s.deadline.last.logicalDate}` : ''}${s.deadline.last.runId ? ` by ${s.deadline.last.runId}` : ''}`
        : undefined,
    ],
  ]);
  const rows = (s.tasks ?? []).map((t) => [
    t.name + (t.dependsOn.length ? pc.dim(` after ${t.dependsOn.join(', ')}`) : ''),
    t.jobDefinition,
    `${commandLine(t.command)}${t.commandFrom === 'schedule' ? pc.yellow(' (override)') : ''}`,
  ]);
  return `${head}\n${table(['task', 'job definition', 'command'], rows, '(no tasks)')}`;
}

/** `schedules [name]`. */
export function schedulesCommand(): Command {
  const cmd = new Command('schedules')
    .description('list schedules with their next fire time, paused flag and last run (or show one)')
    .argument('[name]', 'show only this schedule');
  withApiOptions(cmd);
  cmd.action(
    action(async (name: string | undefined, opts: ApiOptions) => {
      const api = clientFor(opts);
      const schedules = name ? [await api.get<Schedule>(`/schedules/${seg(name)}`)] : (await api.get<{ schedules: Schedule[] }>('/schedules')).schedules;
      if (opts.json) {
        process.stdout.write(json(name ? schedules[0] : { schedules }));
        return;
      }
      if (name) {
        process.stdout.write(`${scheduleDetails(schedules[0]!)}\n`);
        return;
      }
      process.stdout.write(`${schedulesTable(schedules)}\n`);
    }),
  );
  return cmd;
}

/** The schedules listing: declared and dynamic told apart, fitted to the terminal. */
export function schedulesTable(schedules: Schedule[], width?: number): string {
  // The deadline column only when some schedule has one.
  const withDeadlines = schedules.some((s) => s.deadline);
  const rows = schedules.map((s) => [
    s.name,
    s.source ?? (s.origin === 'api' ? 'dynamic' : 'declared'),
    onEvents(s) ? pc.dim('(none)') : `${s.expression}${s.timezone === 'UTC' ? '' : pc.dim(` ${s.timezone}`)}`,
    s.paused ? pc.yellow('paused') : s.enabled ? pc.green('active') : pc.dim('disabled'),
    onEvents(s) ? 'on events' : s.nextFireTimes[0] ? `${iso(s.nextFireTimes[0])}${s.timezone === 'UTC' ? '' : pc.dim(` (${inZone(s.nextFireTimes[0], s.timezone)})`)}` : pc.dim('none'),
    s.lastRun ? `${status(s.lastRun.outcome ?? 'running')} ${pc.dim(s.lastRun.runId)}` : '',
    ...(withDeadlines ? [deadlineCell(s.deadline)] : []),
    commandCell(s),
  ]);
  return fitTable(
    [
      { head: 'schedule' },
      { head: 'source' },
      { head: 'expression', wrap: true, minWidth: 16 },
      { head: 'state' },
      { head: 'next fire', wrap: true, minWidth: 20 },
      { head: 'last run', wrap: true, drop: 2 },
      // Dropped after `last run` on a narrow terminal; `schedules <name>` always shows it.
      ...(withDeadlines ? [{ head: 'deadline', wrap: true, minWidth: 14, drop: 1 }] : []),
      { head: 'command', wrap: true, minWidth: 16 },
    ],
    rows,
    { empty: '(no schedules)', ...(width ? { width } : {}) },
  );
}

function pauseLike(verb: 'pause' | 'resume'): Command {
  const cmd = new Command(verb)
    .description(verb === 'pause' ? 'pause a schedule, or every schedule matching --prefix/--tag' : 'resume a schedule, or every schedule matching --prefix/--tag')
    .argument('[schedule]', 'schedule name')
    .option('--prefix <prefix>', 'every schedule whose name starts with this')
    .option('--tag <key=value>', 'every schedule with this tag');
  withApiOptions(cmd);
  cmd.action(
    action(async (name: string | undefined, opts: ApiOptions & { prefix?: string; tag?: string }) => {
      // Every flag is checked before the API target (token, credentials): bad input is a
      // usage error (exit 2) whatever the state of the machine.
      if (name !== undefined && (opts.prefix !== undefined || opts.tag !== undefined)) {
        throw new UsageError(`give a schedule name or --prefix/--tag, not both`);
      }
      if (name === undefined && opts.prefix === undefined && opts.tag === undefined) throw new UsageError(`${verb} needs a schedule name, --prefix or --tag`);
      let tag: { key: string; value: string } | undefined;
      if (opts.tag !== undefined) {
        const eq = opts.tag.indexOf('=');
        if (eq <= 0) throw new UsageError(`--tag "${opts.tag}" must be KEY=VALUE`);
        tag = { key: opts.tag.slice(0, eq), value: opts.tag.slice(eq + 1) };
      }
      const api = clientFor(opts);
      if (name !== undefined) {
        const s = await api.post<Schedule>(`/schedules/${seg(name)}/${verb}`);
        if (opts.json) process.stdout.write(json(s));
        else process.stdout.write(`${s.name} ${s.paused ? pc.yellow('paused') : pc.green('resumed')}\n`);
        return;
      }
      const out = await api.post<{ schedules: string[] }>(`/schedules/${verb}`, {
        body: { ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}), ...(tag ? { tag } : {}) },
      });
      if (opts.json) process.stdout.write(json(out));
      else if (out.schedules.length === 0) process.stderr.write('no schedule matched\n');
      else process.stdout.write(`${verb === 'pause' ? 'paused' : 'resumed'}: ${out.schedules.join(', ')}\n`);
    }),
  );
  return cmd;
}

/** `pause <schedule>` / `pause --prefix P`. */
export const pauseCommand = () => pauseLike('pause');
/** `resume <schedule>` / `resume --prefix P`. */
export const resumeCommand = () => pauseLike('resume');

interface BackfillOut {
  count: number;
  created: number;
  pending: number;
  active: number;
  done: boolean;
  runs: { runId: string; scheduledTime: string; status?: string; created: boolean; state: string }[];
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);

/** `--rerun skipped,failed`: which ended statuses a backfill re-runs. */
const RerunFlag = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()))
  .pipe(z.array(z.enum(['skipped', 'failed'], { error: 'must list skipped and/or failed, e.g. --rerun skipped,failed' })).min(1));

/** `backfill <schedule> --from --to [--parallel N] [--no-wait]`. */
export function backfillCommand(): Command {
  const cmd = new Command('backfill')
    .description("run the schedule's series in [from, to) (at most 500), one run at a time by default; times that already ran are not run again")
    .argument('<schedule>', 'schedule name')
    .requiredOption('--from <instant>', 'ISO-8601 start (inclusive)')
    .requiredOption('--to <instant>', 'ISO-8601 end (exclusive, not in the future)')
    .addOption(new Option('--parallel <n>', 'how many backfilled runs may be active at once (1-50)').default('1'))
    .option('--rerun <statuses>', 're-run the times whose run was SKIPPED and/or FAILED: skipped, failed or skipped,failed')
    .option('--no-wait', 'start what the limit allows and return (repeat the command to carry on)')
    .addOption(new Option('--poll <ms>', 'how often to check progress').default('2000').hideHelp());
  withApiOptions(cmd);
  cmd.action(
    action(async (name: string, opts: ApiOptions & { from: string; to: string; parallel: string; rerun?: string; wait: boolean; poll: string }) => {
      const from = parseFlag('--from', IsoInstant, opts.from);
      const to = parseFlag('--to', IsoInstant, opts.to);
      const parallel = parseFlag('--parallel', PositiveInt(50), opts.parallel);
      const poll = parseFlag('--poll', PositiveInt(60_000), opts.poll);
      const rerun = opts.rerun === undefined ? [] : parseFlag('--rerun', RerunFlag, opts.rerun);
      const api = clientFor(opts);
      // One session per invocation: each time is re-run at most once however often the request repeats.
      const session = randomUUID();
      const body = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), parallel, session, ...(rerun.length ? { rerun } : {}) };
      const started = new Set<string>();
      const rerunIds = new Set<string>();
      let out: BackfillOut;
      let shown = '';
      for (;;) {
        // Each request re-plans from the runs recorded and starts what the parallel limit allows.
        out = await api.post<BackfillOut>(`/schedules/${seg(name)}/backfill`, { body });
        for (const r of out.runs) if (r.created || r.state === 'rerun') started.add(r.runId);
        for (const r of out.runs) if (r.state === 'rerun') rerunIds.add(r.runId);
        const finished = out.runs.filter((r) => r.status && TERMINAL.has(r.status)).length;
        const progress = `${name}: ${finished}/${out.count} finished, ${out.active} running, ${out.pending} pending`;
        if (!opts.json && progress !== shown && out.count > 0) {
          process.stderr.write(`${progress}\n`);
          shown = progress;
        }
        if (out.done || !opts.wait) break;
        await new Promise((resolve) => setTimeout(resolve, poll));
      }
      if (opts.json) {
        process.stdout.write(json({ ...out, created: started.size }));
        return;
      }
      const rows = out.runs.map((r) => [
        r.runId,
        iso(r.scheduledTime),
        r.status ? status(r.status) : pc.dim('pending'),
        started.has(r.runId) ? (rerunIds.has(r.runId) ? 're-run' : 'started') : r.state === 'pending' ? '' : pc.dim('existed'),
      ]);
      process.stdout.write(`${table(['run', 'scheduled', 'status', ''], rows, 'no scheduled time in that range')}\n`);
      process.stderr.write(`${started.size} started, ${out.count - started.size - out.pending} already existed${out.pending ? `, ${out.pending} pending` : ''}\n`);
    }),
  );
  return cmd;
}
