/**
 * A schedule's month on its own clock: each day's runs coloured by outcome (with their
 * counts: colour is never the only cue) and the fires still to come, from the API's
 * calendar (the schedule's series, DST-correct in its zone). The month is in the URL
 * (`#/schedules/<name>?month=2026-12`), so a month can be shared; the previous and next
 * months are links, reachable and followed with the keyboard like any other.
 */
import { api, type CalendarDay, type ScheduleCalendar } from '../api.ts';
import { usePoll } from '../hooks.ts';
import { href } from '../router.ts';
import { localIso } from '../../shared/expressions/zone.ts';
import { Loading, Problem } from './common.tsx';

/** The calendar changes slowly (a run a minute at most per day cell): read it less often than the rest. */
const CALENDAR_POLL_MS = 5000;
const WEEKDAYS = [
  ['Mon', 'Monday'],
  ['Tue', 'Tuesday'],
  ['Wed', 'Wednesday'],
  ['Thu', 'Thursday'],
  ['Fri', 'Friday'],
  ['Sat', 'Saturday'],
  ['Sun', 'Sunday'],
] as const;
const OUTCOME_ORDER = ['FAILED', 'SUCCEEDED', 'RUNNING', 'SUBMITTED', 'QUEUED', 'CANCELLED', 'SKIPPED'] as const;

/** `December 2026` for `2026-12`. */
export function monthName(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Intl.DateTimeFormat('en', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, 1));
}

/** The month's days in weeks of seven, Monday first; null where a week runs into another month. */
export function weeksOf(days: CalendarDay[]): (CalendarDay | null)[][] {
  if (days.length === 0) return [];
  const first = new Date(`${days[0]!.date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  const cells: (CalendarDay | null)[] = [...Array<null>((first + 6) % 7).fill(null), ...days];
  while (cells.length % 7 !== 0) cells.push(null);
  return Array.from({ length: cells.length / 7 }, (_, i) => cells.slice(i * 7, i * 7 + 7));
}

function Day({ day, calendar, today }: { day: CalendarDay; calendar: ScheduleCalendar; today: boolean }) {
  const time = (iso: string) => localIso(new Date(iso), calendar.timezone).slice(11, 16);
  const outcomes = OUTCOME_ORDER.filter((s) => day.runs.byStatus[s]);
  return (
    <td class={today ? 'today' : undefined} {...(today ? { 'aria-current': 'date' as const } : {})}>
      <div class="date">{Number(day.date.slice(8))}</div>
      {outcomes.length > 0 && (
        <ul class="plain outcomes">
          {outcomes.map((s) => (
            <li key={s}>
              <span class={`cell s-${s.toLowerCase()}`} aria-hidden="true" /> {day.runs.byStatus[s]} {s.toLowerCase()}
            </li>
          ))}
        </ul>
      )}
      {day.runs.shown.length > 0 && (
        <span class="cells" role="group" aria-label={`Runs on ${day.date}`}>
          {day.runs.shown.map((r) => (
            <a
              key={r.runId}
              href={`#/runs/${encodeURIComponent(r.runId)}`}
              class={`cell s-${r.status.toLowerCase()}`}
              title={`${time(r.scheduledTime)} ${r.status}`}
              aria-label={`${time(r.scheduledTime)} ${r.status} run ${r.runId}`}
            />
          ))}
        </span>
      )}
      {day.fires.total > 0 && (
        <div class="fires small">
          <span class="muted">next</span> {day.fires.shown.slice(0, 3).map(time).join(' ')}
          {day.fires.total > 3 && (
            <span class="muted">
              {' '}+{day.fires.total - 3}
              {day.fires.more ? ' or more' : ''}
            </span>
          )}
        </div>
      )}
    </td>
  );
}

/** The calendar section of the Schedule page; `month` from the URL (absent: this month on the schedule's clock). */
export function Calendar({ name, month }: { name: string; month?: string }) {
  const { data, error } = usePoll(() => api.calendar(name, month), `calendar:${name}:${month ?? ''}`, CALENDAR_POLL_MS);
  if (!data) return error ? <Problem error={error} /> : <Loading />;
  const today = localIso(new Date(Date.parse(data.now)), data.timezone).slice(0, 10);
  const link = (m: string) => href(`/schedules/${encodeURIComponent(name)}`, { month: m });
  return (
    <div class="calendar">
      <nav class="months" aria-label="Calendar months">
        <a href={link(data.previous)} rel="prev" aria-label={`Previous month: ${monthName(data.previous)}`}>
          ‹ {monthName(data.previous)}
        </a>
        <a href={link(data.next)} rel="next" aria-label={`Next month: ${monthName(data.next)}`}>
          {monthName(data.next)} ›
        </a>
      </nav>
      {!data.timed && <p class="muted">Started only by events: no fires to show, only its runs.</p>}
      {data.runsTruncated && <p class="muted small">This month has more runs than the calendar reads; the earliest days show fewer.</p>}
      <div class="scroll">
        <table class="month">
          <caption>
            {monthName(data.month)} <span class="muted small">({data.timezone})</span>
          </caption>
          <thead>
            <tr>
              {WEEKDAYS.map(([short, long]) => (
                <th scope="col" key={short}>
                  <abbr title={long}>{short}</abbr>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {weeksOf(data.days).map((week, i) => (
              <tr key={i}>
                {week.map((day, j) => (day ? <Day key={day.date} day={day} calendar={data} today={day.date === today} /> : <td key={`x${j}`} class="outside" />))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
