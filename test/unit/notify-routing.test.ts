/**
 * Notification routing: each message goes to the webhook its schedule names for its kind,
 * else to the schedule's webhook, else to the deployment's. Real HTTP receivers on loopback
 * stand in for Slack's webhooks (as in the other Slack tests); the URLs never reach a log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleDefinition } from '#shared/config/definition';
import { deadlineMissedMessage } from '#shared/engine/deadline';
import { runIdFor } from '#shared/engine/naming';
import { newRun } from '#shared/engine/run-state';
import { failureMessage, recoveryMessage, stuckMessage } from '#shared/notify/messages';
import { routedNotifier, routeParameters } from '#shared/notify/routing';
import type { DeadlineRecord } from '#shared/store/deadline-item';
import type { RunItem } from '#shared/store/schema';
import { definition, fire, MemoryLog, startSlackCapture, task, type SlackCapture } from '#test/helpers/engine';

let deployment: SlackCapture;
let team: SlackCapture;
let oncall: SlackCapture;

beforeAll(async () => {
  [deployment, team, oncall] = await Promise.all([startSlackCapture(), startSlackCapture(), startSlackCapture()]);
});
afterAll(async () => {
  await Promise.all([deployment, team, oncall].map((c) => c?.close()));
});

const notify = { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 30, submitted: 120, running: 720 } };
/** X: its own webhook for everything, the on-call one for deadlines. */
const x: ScheduleDefinition = definition('x', [task('main')], {
  expression: 'cron(0 1 * * ? *)',
  notify: { ...notify, slack: { webhook: { env: 'TEAM_SLACK' }, deadline: { env: 'ONCALL_SLACK' } } },
  deadline: { at: '06:00', timezone: 'UTC', forLogicalDate: 'same' },
});
/** Y: no routes. */
const y: ScheduleDefinition = definition('y', [task('main')]);

function endedRun(def: ScheduleDefinition, status: 'FAILED' | 'SUCCEEDED'): RunItem {
  const scheduledTime = '2026-03-01T01:00:00.000Z';
  const { run } = newRun(fire(def, scheduledTime), { runId: runIdFor({ schedule: def.name, scheduledTime }), mode: 'start' }, { now: Date.parse(scheduledTime), owner: 't', leaseMs: 60_000, deployment: 'd', retentionDays: 7 });
  const main = run.tasks.main!;
  return { ...run, status, endedAt: '2026-03-01T01:05:00.000Z', tasks: { main: { ...main, status } } };
}

const record: DeadlineRecord = { schedule: 'x', deadlineAt: '2026-03-01T06:00:00.000Z', logicalDate: '2026-03-01', status: 'MISSED', alert: { status: 'PENDING' }, version: 1 };

describe('Slack routing', () => {
  it("sends X's failure to X's webhook, X's deadline alert to its deadline route, and Y's messages to the deployment's", async () => {
    const log = new MemoryLog();
    const urls: Record<string, string> = { TEAM_SLACK: team.url, ONCALL_SLACK: oncall.url };
    const notifier = routedNotifier({ url: deployment.url, envOf: (name) => urls[name], log });
    const where = { region: 'us-east-1', logGroup: '/aws/batch/job' };

    await notifier.send(failureMessage(endedRun(x, 'FAILED'), where));
    await notifier.send(stuckMessage(endedRun(x, 'FAILED'), 'RUNNING', 60));
    await notifier.send(deadlineMissedMessage(x, record, undefined));
    await notifier.send(failureMessage(endedRun(y, 'FAILED'), where));
    await notifier.send(recoveryMessage(endedRun(y, 'SUCCEEDED')));

    expect(team.messages.map((m) => m.text.split('\n')[0])).toEqual([
      expect.stringContaining('*x* failed'),
      expect.stringContaining('*x* run `x.20260301T010000Z` has been RUNNING'),
    ]);
    expect(oncall.messages.map((m) => m.text)).toEqual([expect.stringContaining('*x* missed its deadline: the run for 2026-03-01')]);
    expect(deployment.messages.map((m) => m.text.split('\n')[0])).toEqual([expect.stringContaining('*y* failed'), expect.stringContaining('*y* recovered')]);
    // No URL in any log line.
    const logged = JSON.stringify(log.lines);
    for (const c of [deployment, team, oncall]) expect(logged).not.toContain(c.url);
  });

  it("falls back to the deployment's webhook, with a warning naming the variable (not a URL), when a route's variable is unset", async () => {
    const log = new MemoryLog();
    const before = deployment.messages.length;
    const notifier = routedNotifier({ url: deployment.url, envOf: () => undefined, log });
    await notifier.send(failureMessage(endedRun(x, 'FAILED'), { region: 'us-east-1', logGroup: '/aws/batch/job' }));
    expect(deployment.messages.slice(before).map((m) => m.text.split('\n')[0])).toEqual([expect.stringContaining('*x* failed')]);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', extra: expect.objectContaining({ variable: 'TEAM_SLACK', notification: 'failure' }) }));
  });

  it('lists every SSM parameter the routes name, once, for the IAM grant', () => {
    expect(routeParameters([{ webhook: { ssm: '/team/slack' }, deadline: { ssm: 'oncall/slack' }, failure: { env: 'X' } }, undefined, { missed: { ssm: '/team/slack' } }])).toEqual([
      'oncall/slack',
      'team/slack',
    ]);
  });
});
