/**
 * The words of Batchron's Slack messages: what failed, why, after how many attempts, for how
 * long, and where the logs are. Pure functions of a run, so tests read exactly what a user
 * would. Every piece of text that comes from a job or a user goes through `slackText`
 * (./escape.ts), so it cannot ping, link or format.
 */
import type { RunItem, StuckState } from '../store/schema.ts';
import { slackText as t } from './escape.ts';
import { routeFor, type NotificationKind, type SlackRoute } from './routing.ts';

/** A message for the notifier: plain text (the fallback Slack shows in notifications) plus blocks. */
export interface NotificationMessage {
  kind: NotificationKind;
  schedule: string;
  runId: string;
  text: string;
  /** The webhook it goes to (./routing.ts); absent = the deployment's. */
  route?: SlackRoute;
}

/** `{ route }` of a message of `kind` about a run of `definition`, or nothing for the deployment's webhook. */
export function routed(definition: { notify: { slack?: Parameters<typeof routeFor>[0] } }, kind: NotificationKind): { route?: SlackRoute } {
  const route = routeFor(definition.notify.slack, kind);
  return route ? { route } : {};
}

/** Where a job's log lines are: the CloudWatch console URL of its stream. */
export function logLocation(region: string, logGroup: string, logStreamName: string | undefined): string | undefined {
  if (!logStreamName) return undefined;
  // The console's fragment encoding: URI-encode, then `%` becomes `$25`.
  const enc = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, '$');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${enc(logGroup)}/log-events/${enc(logStreamName)}`;
}

function duration(fromIso: string, toIso: string | undefined): string {
  const ms = Math.max(0, Date.parse(toIso ?? fromIso) - Date.parse(fromIso));
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** The failure message of a run that failed for good. */
export function failureMessage(run: RunItem, where: { region: string; logGroup: string }): NotificationMessage {
  if (run.dependency?.expired) return waitExpiredMessage(run);
  const failed = run.definition.tasks.map((t) => run.tasks[t.name]!).find((t) => t.status === 'FAILED');
  const last = failed?.attempts.at(-1);
  const logs = logLocation(where.region, where.logGroup, last?.logStreamName);
  const lines = [
    `:red_circle: *${t(run.schedule)}* failed (run \`${t(run.runId)}\`)`,
    `Task: ${t(failed?.name ?? 'unknown')}`,
    `Exit code: ${last?.exitCode ?? 'none'}`,
    `Status reason: ${t(last?.statusReason ?? 'none')}`,
    `Attempts: ${failed?.attempts.length ?? 0}`,
    `Duration: ${duration(run.createdAt, run.endedAt)}`,
    `Logs: ${t(logs ?? (last?.logStreamName ? `${where.logGroup} ${last.logStreamName}` : 'no log stream'))}`,
  ];
  return { kind: 'failure', schedule: run.schedule, runId: run.runId, text: lines.join('\n'), ...routed(run.definition, 'failure') };
}

/** The one "recovered" message after a failure. */
export function recoveryMessage(run: RunItem): NotificationMessage {
  return {
    kind: 'recovery',
    ...routed(run.definition, 'recovery'),
    schedule: run.schedule,
    runId: run.runId,
    text: `:large_green_circle: *${t(run.schedule)}* recovered: run \`${t(run.runId)}\` succeeded after a failed run (duration ${duration(run.createdAt, run.endedAt)}).`,
  };
}

/** The alert for a run stuck in one state too long. */
export function stuckMessage(run: RunItem, state: StuckState, minutes: number): NotificationMessage {
  return {
    kind: 'stuck',
    ...routed(run.definition, 'stuck'),
    schedule: run.schedule,
    runId: run.runId,
    text: `:warning: *${t(run.schedule)}* run \`${t(run.runId)}\` has been ${state} for more than ${minutes} minutes.`,
  };
}

/** The one alert when a dependent run's wait for its upstreams passed `wait.within`. */
export function waitExpiredMessage(run: RunItem): NotificationMessage {
  const verb = run.status === 'SKIPPED' ? 'skipped' : 'failed';
  const lines = [
    `:red_circle: *${t(run.schedule)}* ${verb}: its upstreams did not finish in time (run \`${t(run.runId)}\`)`,
    `Logical date: ${t(run.dependency?.logicalDate ?? 'unknown')}`,
    `Reason: ${t(run.statusReason ?? 'wait.within passed')}`,
  ];
  return { kind: 'failure', schedule: run.schedule, runId: run.runId, text: lines.join('\n') };
}
