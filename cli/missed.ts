/**
 * The "fell due while stopped" part of `npm start`'s banner: every schedule that targets
 * `fire` (declared in serverless.yml or created through the API; not the sweeper's or the
 * one-time retries'), with a backfill command that runs exactly those fires when pasted
 * (backfill runs the schedule's series in [from, to), the same series the report comes from).
 */

/** A missed fire as the local Scheduler reports it. */
export interface MissedFireLike {
  group: string;
  name: string;
  scheduledTime: Date;
  targetArn: string;
}

/** One schedule's missed fires and the command that runs them. */
export interface MissedSummary {
  name: string;
  times: Date[];
  command: string;
}

/** Groups the missed fires of the deployment's schedules by schedule, each with its backfill command. */
export function missedFireSummaries(missed: MissedFireLike[], scheduleGroup: string, fireArn: string | undefined): MissedSummary[] {
  const byName = new Map<string, Date[]>();
  for (const m of missed) {
    if (m.group !== scheduleGroup || m.targetArn !== fireArn) continue;
    byName.set(m.name, [...(byName.get(m.name) ?? []), m.scheduledTime]);
  }
  return [...byName].map(([name, times]) => {
    const first = times[0]!.toISOString();
    // --to is exclusive: one second past the last missed fire (Scheduler's times are whole seconds).
    const to = new Date(times[times.length - 1]!.getTime() + 1000).toISOString();
    return { name, times, command: `npx batchron backfill ${name} --from ${first} --to ${to}` };
  });
}
