/**
 * The local EventBridge Scheduler: the restJson1 API the SDKs and the AWS CLI speak
 * (schedules, schedule groups, tags) and a firing engine on the stack's Clock that
 * invokes each ENABLED schedule's target at its times, in its time zone, with the context
 * attributes substituted and the target's RetryPolicy applied.
 *
 *   CreateSchedule ──► record ──► arm(): clock.at(next fire)
 *                                   │ at fire: lastFire = T, arm(next)
 *                                   ▼ (+ random delay within a FLEXIBLE window)
 *                     deliver(attempt 1..n) ──► Lambda invokeAsync | Batch submitJob
 *                                   │ failure: clock.after(backoff), until attempts or age run out,
 *                                   ▼          then dropped (or "sent" to the DLQ: logged)
 *                     ActionAfterCompletion DELETE: deleted after its last fire
 */
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '#local/clock';
import {
  AwsError,
  type AwsRequest,
  type AwsResponse,
  type BatchSubmitter,
  type LambdaInvoker,
  type LocalService,
  type SubmitJobRequest,
} from '#local/contracts';
import { jsonBody } from '#local/endpoint';
import type { AuthRequest, LocalIam } from '../iam/index.ts';
import type { Faults } from '#local/faults';
import { JsonSnapshot } from '#local/persist';
import { parseExpression } from '#shared/expressions/index';
import { nextFires, type SeriesSpec } from '#shared/expressions/series';
import { NAME_PATTERN, optionalString, requireString, validateSchedule, validationError, type ScheduleSpec, type TargetSpec } from './validate.ts';
import { baseDelayMs } from '#shared/engine/backoff';

/** How far back CreateSchedule accepts a recurring schedule's StartDate. */
const START_DATE_SLACK_MS = 5 * 60_000;

/** What `onFire` reports for every delivery attempt. */
export interface FireReport {
  group: string;
  name: string;
  scheduledTime: Date;
  targetArn: string;
  ok: boolean;
  error?: string;
  attempt: number;
}

export interface LocalSchedulerOptions {
  /** Each delivery is authorized as the schedule's target role (local/iam/). */
  iam?: LocalIam;
  clock: Clock;
  faults: Faults;
  region: string;
  account: string;
  /** State is kept in `<dataDir>/state/scheduler.json`; in memory only when absent. */
  dataDir?: string;
  /** Lambda ARN targets are invoked with `invokeAsync`. */
  lambda: LambdaInvoker;
  /** The universal target `arn:aws:scheduler:::aws-sdk:batch:submitJob`. */
  batch: BatchSubmitter;
  /** Called after every delivery attempt; for live output and tests. */
  onFire?: (fire: FireReport) => void;
  /** Where dropped deliveries (and DLQ hand-offs) are reported; console.warn when absent. */
  log?: (line: string) => void;
}

/** A fire that fell due while the stack was stopped. */
export interface MissedFire {
  group: string;
  name: string;
  scheduledTime: Date;
  /** The schedule's target, so a caller can tell its own schedules (fire) from internal ones. */
  targetArn: string;
}

/** How often a running stack records that it is running (`<dataDir>/state/heartbeat.json`). */
export const HEARTBEAT_MS = 10_000;

/** The last instant the stack was known to be running, as the heartbeat file holds it. */
interface Heartbeat {
  at: number;
}

/** A stored schedule: the validated request plus the service's own fields. */
interface ScheduleRecord extends Omit<ScheduleSpec, 'parsed' | 'Target'> {
  Name: string;
  GroupName: string;
  Arn: string;
  Target: Omit<TargetSpec, 'extra'> & Record<string, unknown>;
  CreationDate: number;
  LastModificationDate: number;
  /** Scheduled time (ms) of the last fire, so a restart knows what was missed. */
  lastFire?: number;
  /** Fires at or before this instant are not due (set on create, update and restart). */
  notBefore: number;
}

interface GroupRecord {
  Name: string;
  Arn: string;
  CreationDate: number;
  LastModificationDate: number;
  Tags: { Key: string; Value: string }[];
}

interface State {
  groups: GroupRecord[];
  schedules: ScheduleRecord[];
}

const BATCH_SUBMIT_JOB = /^arn:aws(-[a-z]+)?:scheduler:::aws-sdk:batch:submitJob$/;
const LAMBDA_ARN = /^arn:aws(-[a-z]+)?:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9-_]+(:[A-Za-z0-9-_$]+)?$/;
/** A restart lists at most this many missed fires per schedule (a minutely schedule stopped for a week would list 10,080). */
const MAX_MISSED_PER_SCHEDULE = 100;

/** Scheduler's retry backoff is not documented; we double from 10 s up to 5 min, on the Clock. */
const SCHEDULER_BACKOFF = { initialSeconds: 10, multiplier: 2, maxSeconds: 300, jitter: 'none' } as const;

/** The delay before redelivering a failed invocation for the `attempt`-th time (the engine's exponential rule). */
function redeliveryDelayMs(attempt: number): number {
  return baseDelayMs(SCHEDULER_BACKOFF, attempt + 1);
}

/** `2026-11-23T16:00:00Z`: the format of `<aws.scheduler.scheduled-time>` (whole seconds, Z). */
export function schedulerTime(t: number | Date): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class LocalScheduler implements LocalService {
  readonly signingName = 'scheduler';
  private readonly groups = new Map<string, GroupRecord>();
  private readonly schedules = new Map<string, ScheduleRecord>();
  private readonly timers = new Map<string, Timer>();
  private readonly pending = new Set<Timer>();
  private readonly persist: JsonSnapshot<State>;
  private started = false;
  private stopped = false;
  private readonly heartbeat: JsonSnapshot<Heartbeat>;
  private heartbeatTimer: Timer | undefined;
  private running = false;

  constructor(private readonly opts: LocalSchedulerOptions) {
    this.persist = new JsonSnapshot<State>(opts.dataDir, 'scheduler', () => ({
      groups: [...this.groups.values()],
      schedules: [...this.schedules.values()],
    }));
    this.heartbeat = new JsonSnapshot<Heartbeat>(opts.dataDir, 'heartbeat', () => ({ at: this.opts.clock.now() }), 0);
    this.ensureDefaultGroup();
  }

  /**
   * Records, now and every HEARTBEAT_MS until `stop`, that the stack is running. The caller
   * calls it once the whole stack is up (serverless.yml deployed): a start that fails
   * before that leaves the last heartbeat where it was, so the next start reports the same
   * missed fires again instead of losing them.
   */
  markRunning(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    const beat = () => {
      this.heartbeat.flush();
      this.heartbeatTimer = this.opts.clock.after(HEARTBEAT_MS, beat);
    };
    beat();
  }

  /** The next time a schedule fires from where it stands (its series after its last fire); undefined when none or unknown. */
  nextFire(group: string, name: string): Date | undefined {
    const s = this.schedules.get(key(group, name));
    if (!s || s.State !== 'ENABLED') return undefined;
    return this.fireTimes(s, 1)[0];
  }

  /** Loads state, reports fires that fell due while stopped (without running them) and arms the future ones. */
  async start(): Promise<{ missed: MissedFire[] }> {
    if (this.started) return { missed: [] };
    this.started = true;
    this.stopped = false;
    const saved = this.persist.load();
    if (saved) {
      this.groups.clear();
      this.schedules.clear();
      for (const g of saved.groups) this.groups.set(g.Name, g);
      for (const s of saved.schedules) this.schedules.set(key(s.GroupName, s.Name), s);
      this.ensureDefaultGroup();
    }
    const now = this.opts.clock.now();
    // The report covers (last instant running, now]: the heartbeat, or for a data folder
    // written before heartbeats, how far the schedule had got (its last fire, or notBefore).
    const lastRunning = this.heartbeat.load()?.at;
    const missed: MissedFire[] = [];
    for (const s of this.schedules.values()) {
      if (s.State === 'ENABLED') {
        const since = Math.max(s.lastFire ?? -Infinity, lastRunning ?? s.notBefore - 1);
        const isAt = parseExpression(s.ScheduleExpression).kind === 'at';
        const times = isAt && s.lastFire !== undefined ? [] : nextFires(seriesOf(s), new Date(since), MAX_MISSED_PER_SCHEDULE);
        for (const t of times) {
          if (t.getTime() > now) break;
          missed.push({ group: s.GroupName, name: s.Name, scheduledTime: t, targetArn: s.Target.Arn });
        }
      }
      // What fell due while stopped is reported, not run; firing resumes from now. The report
      // is not consumed by this: it is computed from the heartbeat, which only a started stack moves.
      s.notBefore = Math.max(s.notBefore, now + 1);
      // A restart re-applies every schedule, as `npm start` re-deploys the declared ones: the
      // definition in force starts now, so the sweeper's missed-fire repair (which looks back
      // only to LastModificationDate) leaves the fires that fell due while stopped to the
      // report above and to backfill, instead of running some of them behind the user's back.
      if (saved) s.LastModificationDate = Math.max(s.LastModificationDate, now);
      this.arm(s);
    }
    this.persist.changed();
    missed.sort((a, b) => a.scheduledTime.getTime() - b.scheduledTime.getTime());
    return { missed };
  }

  /** Writes state and cancels every timer; deliveries in flight finish but nothing new starts. */
  async stop(): Promise<void> {
    // The last heartbeat: everything up to now was seen by a running stack.
    if (this.running) this.heartbeat.flush();
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = undefined;
    this.running = false;
    this.stopped = true;
    this.started = false;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    for (const t of this.pending) t.cancel();
    this.pending.clear();
    this.persist.flush();
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const segments = req.path.split('/').filter((s) => s !== '');
    const [resource, ...rest] = segments;
    const name = rest.join('/');
    const m = req.method.toUpperCase();
    if (resource === 'schedules' && rest.length === 0 && m === 'GET') return this.op('ListSchedules', () => this.listSchedules(req));
    if (resource === 'schedules' && rest.length === 1) {
      if (m === 'POST') return this.op('CreateSchedule', () => this.createSchedule(name, req));
      if (m === 'GET') return this.op('GetSchedule', () => this.getSchedule(name, req));
      if (m === 'PUT') return this.op('UpdateSchedule', () => this.updateSchedule(name, req));
      if (m === 'DELETE') return this.op('DeleteSchedule', () => this.deleteSchedule(name, req));
    }
    if (resource === 'schedule-groups' && rest.length === 0 && m === 'GET') {
      return this.op('ListScheduleGroups', () => this.listScheduleGroups(req));
    }
    if (resource === 'schedule-groups' && rest.length === 1) {
      if (m === 'POST') return this.op('CreateScheduleGroup', () => this.createScheduleGroup(name, req));
      if (m === 'GET') return this.op('GetScheduleGroup', () => this.getScheduleGroup(name));
      if (m === 'DELETE') return this.op('DeleteScheduleGroup', () => this.deleteScheduleGroup(name));
    }
    if (resource === 'tags' && rest.length > 0) {
      if (m === 'GET') return this.op('ListTagsForResource', () => this.listTags(name));
      if (m === 'POST') return this.op('TagResource', () => this.tagResource(name, req));
      if (m === 'DELETE') return this.op('UntagResource', () => this.untagResource(name, req));
    }
    throw new AwsError('UnknownOperationException', `The local Scheduler has no operation for ${m} ${req.path}.`, 404);
  }

  // ── API ────────────────────────────────────────────────────────────────────

  private op(operation: string, fn: () => unknown): AwsResponse {
    this.opts.faults.check('scheduler', operation);
    const body = fn();
    return { status: 200, body: body ?? {} };
  }

  private createSchedule(name: string, req: AwsRequest): unknown {
    const body = jsonBody(req);
    requireString(name, 'name', 1, 64, NAME_PATTERN);
    const group = this.groupNamed(optionalString(body.GroupName, 'groupName', 1, 64, NAME_PATTERN) ?? 'default');
    const now = this.opts.clock.now();
    const spec = validateSchedule(body, now);
    // CreateSchedule refuses a recurring schedule's StartDate more than 5 minutes back (it ignores one on at()).
    if (spec.parsed.kind !== 'at' && spec.StartDate !== undefined && spec.StartDate < now - START_DATE_SLACK_MS) {
      throw validationError('The StartDate you specify cannot be earlier than 5 minutes ago.');
    }
    if (this.schedules.has(key(group.Name, name))) {
      throw new AwsError('ConflictException', `Schedule ${name} already exists.`, 409);
    }
    const record = this.toRecord(name, group.Name, spec, now, now);
    this.schedules.set(key(group.Name, name), record);
    this.arm(record);
    this.persist.changed();
    return { ScheduleArn: record.Arn };
  }

  private updateSchedule(name: string, req: AwsRequest): unknown {
    const body = jsonBody(req);
    const groupName = optionalString(body.GroupName, 'groupName', 1, 64, NAME_PATTERN) ?? 'default';
    const existing = this.scheduleNamed(groupName, name);
    const now = this.opts.clock.now();
    // UpdateSchedule replaces the whole definition: members left out take their defaults.
    const spec = validateSchedule(body, now);
    const record = this.toRecord(name, groupName, spec, existing.CreationDate, now);
    record.lastFire = existing.lastFire;
    this.schedules.set(key(groupName, name), record);
    this.arm(record);
    this.persist.changed();
    return { ScheduleArn: record.Arn };
  }

  private getSchedule(name: string, req: AwsRequest): unknown {
    const s = this.scheduleNamed(req.query.get('groupName') ?? 'default', name);
    return {
      Arn: s.Arn,
      Name: s.Name,
      GroupName: s.GroupName,
      ScheduleExpression: s.ScheduleExpression,
      ScheduleExpressionTimezone: s.ScheduleExpressionTimezone,
      StartDate: seconds(s.StartDate),
      EndDate: seconds(s.EndDate),
      Description: s.Description,
      State: s.State,
      KmsKeyArn: s.KmsKeyArn,
      ActionAfterCompletion: s.ActionAfterCompletion,
      FlexibleTimeWindow: s.FlexibleTimeWindow,
      Target: s.Target,
      CreationDate: seconds(s.CreationDate),
      LastModificationDate: seconds(s.LastModificationDate),
    };
  }

  private deleteSchedule(name: string, req: AwsRequest): unknown {
    const groupName = req.query.get('groupName') ?? 'default';
    this.scheduleNamed(groupName, name);
    this.remove(groupName, name);
    return {};
  }

  private listSchedules(req: AwsRequest): unknown {
    const q = req.query;
    const group = optionalString(q.get('ScheduleGroup') ?? undefined, 'groupName', 1, 64, NAME_PATTERN);
    const prefix = optionalString(q.get('NamePrefix') ?? undefined, 'namePrefix', 1, 64, NAME_PATTERN);
    const state = q.get('State');
    if (state !== null && state !== 'ENABLED' && state !== 'DISABLED') {
      throw validationError(`1 validation error detected: Value '${state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`);
    }
    const all = [...this.schedules.values()]
      .filter((s) => (group === undefined || s.GroupName === group) && (prefix === undefined || s.Name.startsWith(prefix)) && (state === null || s.State === state))
      .sort((a, b) => compareKeys(key(a.GroupName, a.Name), key(b.GroupName, b.Name)));
    const page = paginate(all, (s) => key(s.GroupName, s.Name), q);
    return {
      Schedules: page.items.map((s) => ({
        Arn: s.Arn,
        Name: s.Name,
        GroupName: s.GroupName,
        State: s.State,
        CreationDate: seconds(s.CreationDate),
        LastModificationDate: seconds(s.LastModificationDate),
        Target: { Arn: s.Target.Arn },
      })),
      NextToken: page.next,
    };
  }

  private createScheduleGroup(name: string, req: AwsRequest): unknown {
    requireString(name, 'name', 1, 64, NAME_PATTERN);
    const body = jsonBody(req);
    if (this.groups.has(name)) throw new AwsError('ConflictException', `Schedule group ${name} already exists.`, 409);
    const now = this.opts.clock.now();
    const group: GroupRecord = {
      Name: name,
      Arn: this.groupArn(name),
      CreationDate: now,
      LastModificationDate: now,
      Tags: validateTags(body.Tags),
    };
    this.groups.set(name, group);
    this.persist.changed();
    return { ScheduleGroupArn: group.Arn };
  }

  private getScheduleGroup(name: string): unknown {
    return groupSummary(this.groupNamed(name));
  }

  private deleteScheduleGroup(name: string): unknown {
    this.groupNamed(name);
    if (name === 'default') throw validationError('You cannot delete the default schedule group.');
    // Deleting a group deletes every schedule in it.
    for (const s of [...this.schedules.values()]) if (s.GroupName === name) this.remove(name, s.Name);
    this.groups.delete(name);
    this.persist.changed();
    return {};
  }

  private listScheduleGroups(req: AwsRequest): unknown {
    const prefix = optionalString(req.query.get('NamePrefix') ?? undefined, 'namePrefix', 1, 64, NAME_PATTERN);
    const all = [...this.groups.values()]
      .filter((g) => prefix === undefined || g.Name.startsWith(prefix))
      .sort((a, b) => compareKeys(a.Name, b.Name));
    const page = paginate(all, (g) => g.Name, req.query);
    return { ScheduleGroups: page.items.map(groupSummary), NextToken: page.next };
  }

  private listTags(arn: string): unknown {
    return { Tags: this.taggable(arn).Tags };
  }

  private tagResource(arn: string, req: AwsRequest): unknown {
    const group = this.taggable(arn);
    const tags = validateTags(jsonBody(req).Tags, true);
    for (const t of tags) {
      const existing = group.Tags.find((x) => x.Key === t.Key);
      if (existing) existing.Value = t.Value;
      else group.Tags.push(t);
    }
    this.persist.changed();
    return {};
  }

  private untagResource(arn: string, req: AwsRequest): unknown {
    const group = this.taggable(arn);
    const keys = req.query.getAll('TagKeys');
    if (keys.length === 0) throw validationError("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
    group.Tags = group.Tags.filter((t) => !keys.includes(t.Key));
    this.persist.changed();
    return {};
  }

  // ── Firing ─────────────────────────────────────────────────────────────────

  /** The schedule's fire times from where it stands (after its last fire and notBefore): its series (shared/expressions/series.ts). */
  private fireTimes(s: ScheduleRecord, count: number): Date[] {
    const from = Math.max(s.lastFire ?? -Infinity, s.notBefore - 1);
    if (parseExpression(s.ScheduleExpression).kind === 'at' && s.lastFire !== undefined) return [];
    return nextFires(seriesOf(s), new Date(from), count);
  }

  private arm(s: ScheduleRecord): void {
    const k = key(s.GroupName, s.Name);
    this.timers.get(k)?.cancel();
    this.timers.delete(k);
    if (this.stopped || s.State !== 'ENABLED') return;
    const [next] = this.fireTimes(s, 1);
    if (!next) return;
    this.timers.set(k, this.opts.clock.at(next, () => this.fire(k, next.getTime())));
  }

  private fire(k: string, scheduledTime: number): void {
    const s = this.schedules.get(k);
    if (!s || s.State !== 'ENABLED' || this.stopped) return;
    s.lastFire = scheduledTime;
    this.timers.delete(k);
    this.arm(s);
    this.persist.changed();
    const last = !this.timers.has(k);
    const snapshot = structuredClone(s);
    const window = s.FlexibleTimeWindow.Mode === 'FLEXIBLE' ? (s.FlexibleTimeWindow.MaximumWindowInMinutes ?? 0) * 60_000 : 0;
    // A flexible window lets AWS invoke at any point inside it; we pick one from the seeded source.
    const delay = window > 0 ? Math.floor(this.opts.faults.random() * window) : 0;
    const run = () =>
      void this.deliver(snapshot, scheduledTime, 1).finally(() => {
        if (last && snapshot.ActionAfterCompletion === 'DELETE' && this.schedules.get(k)?.Arn === snapshot.Arn) {
          this.remove(snapshot.GroupName, snapshot.Name);
        }
      });
    if (delay > 0) this.later(delay, run);
    else run();
  }

  private later(ms: number, fn: () => void): void {
    const timer = this.opts.clock.after(ms, () => {
      this.pending.delete(timer);
      fn();
    });
    this.pending.add(timer);
  }

  private async deliver(s: ScheduleRecord, scheduledTime: number, attempt: number): Promise<void> {
    const executionId = randomBytes(8).toString('hex');
    const input = substitute(s.Target.Input, {
      'scheduled-time': schedulerTime(scheduledTime),
      'schedule-arn': s.Arn,
      'execution-id': executionId,
      'attempt-number': String(attempt),
    });
    const report = (ok: boolean, error?: string) =>
      this.opts.onFire?.({ group: s.GroupName, name: s.Name, scheduledTime: new Date(scheduledTime), targetArn: s.Target.Arn, ok, attempt, ...(error ? { error } : {}) });
    try {
      await this.invoke(s.Target.Arn, input, s);
      report(true);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report(false, message);
      const retriable = !(error instanceof PermanentError);
      const policy = s.Target.RetryPolicy;
      const delay = redeliveryDelayMs(attempt);
      const age = this.opts.clock.now() + delay - scheduledTime;
      if (retriable && !this.stopped && attempt <= policy.MaximumRetryAttempts && age <= policy.MaximumEventAgeInSeconds * 1000) {
        this.later(delay, () => void this.deliver(s, scheduledTime, attempt + 1));
        return;
      }
      const dlq = s.Target.DeadLetterConfig?.Arn;
      (this.opts.log ?? console.warn)(
        `scheduler: ${s.GroupName}/${s.Name} fire at ${schedulerTime(scheduledTime)} dropped after ${attempt} attempt(s): ${message}` +
          (dlq ? ` (sent to dead-letter queue ${dlq})` : ''),
      );
    }
  }

  /** Invokes a target; rejects when delivery failed. */
  private async invoke(arn: string, input: string | undefined, s: ScheduleRecord): Promise<void> {
    // Scheduler assumes the target's role for every delivery; a refused one is not retried.
    const authorize = (requests: AuthRequest[]) => {
      const denied = this.opts.iam?.checkRole(s.Target.RoleArn, s.Name.slice(0, 64), requests);
      if (denied) throw new PermanentError(`AccessDeniedException: ${denied}`);
    };
    if (LAMBDA_ARN.test(arn)) {
      authorize([{ action: 'lambda:InvokeFunction', resource: arn }]);
      // Lambda's async invoke takes the payload as JSON; a non-JSON Input arrives as a string.
      await this.opts.lambda.invokeAsync(arn, input === undefined ? {} : parseOrString(input));
      return;
    }
    if (BATCH_SUBMIT_JOB.test(arn)) {
      const params = input === undefined ? {} : parseOrString(input);
      if (typeof params !== 'object' || params === null) throw new PermanentError('The Input of batch:submitJob is not a JSON object.');
      const p = params as Record<string, unknown>;
      authorize(
        (['jobQueue', 'jobDefinition'] as const).map((k) => ({
          action: 'batch:SubmitJob',
          resource: String(p[k] ?? '').startsWith('arn:') ? String(p[k]) : `arn:aws:batch:${this.opts.region}:${this.opts.account}:${k === 'jobQueue' ? 'job-queue' : 'job-definition'}/${String(p[k] ?? '')}`,
        })),
      );
      await this.opts.batch.submitJob(toSubmitJobRequest(params as Record<string, unknown>));
      return;
    }
    throw new PermanentError(`The local stack does not deliver to ${arn} (it delivers to Lambda functions and batch:submitJob).`);
  }

  // ── Helpers ────────────────────────────────────────────────────────────────

  private toRecord(name: string, group: string, spec: ScheduleSpec, created: number, now: number): ScheduleRecord {
    const { parsed, Target, ...rest } = spec;
    const { extra, ...target } = Target;
    // A new rate schedule without a StartDate fires at once, then every period (its anchor is
    // its creation, to the second); anything else, and any update, starts after `now`.
    const firesAtCreation = parsed.kind === 'rate' && spec.StartDate === undefined && created === now;
    return {
      ...rest,
      Name: name,
      GroupName: group,
      Arn: `arn:aws:scheduler:${this.opts.region}:${this.opts.account}:schedule/${group}/${name}`,
      Target: { ...extra, ...target },
      CreationDate: created,
      LastModificationDate: now,
      notBefore: firesAtCreation ? Math.floor(created / 1000) * 1000 : now,
    };
  }

  private remove(group: string, name: string): void {
    const k = key(group, name);
    this.timers.get(k)?.cancel();
    this.timers.delete(k);
    this.schedules.delete(k);
    this.persist.changed();
  }

  private scheduleNamed(group: string, name: string): ScheduleRecord {
    if (!this.groups.has(group)) throw new AwsError('ResourceNotFoundException', `Schedule group ${group} does not exist.`, 404);
    const s = this.schedules.get(key(group, name));
    if (!s) throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return s;
  }

  private groupNamed(name: string): GroupRecord {
    const g = this.groups.get(name);
    if (!g) throw new AwsError('ResourceNotFoundException', `Schedule group ${name} does not exist.`, 404);
    return g;
  }

  /** Only schedule groups carry tags in Scheduler. */
  private taggable(arn: string): GroupRecord {
    const m = /^arn:aws(-[a-z]+)?:scheduler:[a-z0-9-]+:\d{12}:schedule-group\/([0-9a-zA-Z-_.]+)$/.exec(arn);
    if (!m) {
      throw validationError(`Invalid resource ARN ${arn}. Tags can be set on schedule groups (arn:aws:scheduler:region:account:schedule-group/name).`);
    }
    const g = this.groups.get(m[2]!);
    if (!g || g.Arn !== arn) throw new AwsError('ResourceNotFoundException', `Schedule group ${m[2]} does not exist.`, 404);
    return g;
  }

  private groupArn(name: string): string {
    return `arn:aws:scheduler:${this.opts.region}:${this.opts.account}:schedule-group/${name}`;
  }

  private ensureDefaultGroup(): void {
    if (this.groups.has('default')) return;
    const now = this.opts.clock.now();
    this.groups.set('default', { Name: 'default', Arn: this.groupArn('default'), CreationDate: now, LastModificationDate: now, Tags: [] });
  }
}

/** A delivery failure that retrying cannot fix (unsupported target, malformed input). */
class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** The series of a stored schedule, as GetSchedule would describe it. */
function seriesOf(s: ScheduleRecord): SeriesSpec {
  return {
    expression: s.ScheduleExpression,
    ...(s.ScheduleExpressionTimezone ? { timezone: s.ScheduleExpressionTimezone } : {}),
    ...(s.StartDate !== undefined ? { startDate: new Date(s.StartDate) } : {}),
    ...(s.EndDate !== undefined ? { endDate: new Date(s.EndDate) } : {}),
    createdAt: new Date(s.CreationDate),
    modifiedAt: new Date(s.LastModificationDate),
  };
}

function key(group: string, name: string): string {
  return `${group}/${name}`;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

function groupSummary(g: GroupRecord) {
  return { Arn: g.Arn, Name: g.Name, State: 'ACTIVE', CreationDate: seconds(g.CreationDate), LastModificationDate: seconds(g.LastModificationDate) };
}

function paginate<T>(all: T[], keyOf: (item: T) => string, q: URLSearchParams): { items: T[]; next?: string } {
  const raw = q.get('MaxResults');
  const max = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw validationError(`1 validation error detected: Value '${raw}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100, inclusive`);
  }
  const token = q.get('NextToken');
  let startIndex = 0;
  if (token !== null) {
    let after: string;
    try {
      after = Buffer.from(token, 'base64url').toString('utf8');
    } catch {
      throw validationError('The NextToken is not valid.');
    }
    if (!after.startsWith('after:')) throw validationError('The NextToken is not valid.');
    const last = after.slice('after:'.length);
    startIndex = all.findIndex((item) => compareKeys(keyOf(item), last) > 0);
    if (startIndex < 0) startIndex = all.length;
  }
  const items = all.slice(startIndex, startIndex + max);
  const more = startIndex + max < all.length;
  return { items, ...(more ? { next: Buffer.from(`after:${keyOf(items[items.length - 1]!)}`).toString('base64url') } : {}) };
}

function validateTags(value: unknown, required = false): { Key: string; Value: string }[] {
  if (value === undefined || value === null) {
    if (required) throw validationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
    return [];
  }
  if (!Array.isArray(value)) throw validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must be a list");
  if (value.length > 200) throw validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 200");
  return value.map((t: Record<string, unknown>, i) => ({
    Key: requireString(t?.Key, `tags.${i + 1}.member.key`, 1, 128),
    Value: requireString(t?.Value, `tags.${i + 1}.member.value`, 0, 256),
  }));
}

/** Replaces the context attributes in a target Input (user guide, "Adding context attributes"). */
function substitute(input: string | undefined, values: Record<string, string>): string | undefined {
  if (input === undefined) return undefined;
  return input.replace(/<aws\.scheduler\.([a-z-]+)>/g, (whole, name: string) => values[name] ?? whole);
}

function parseOrString(input: string): unknown {
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

/** Maps whose keys are the user's own (job parameters, tags) keep them as written. */
const USER_KEYED = new Set(['parameters', 'tags']);

/**
 * Universal targets take the target API's request parameters named as in the AWS SDKs'
 * PascalCase form (`{"JobName": …, "JobQueue": …}`, like the docs' `QueueUrl` and
 * `MessageBody` for SQS); Batch's wire shape is camelCase. camelCase input passes through.
 */
export function toSubmitJobRequest(params: Record<string, unknown>): SubmitJobRequest {
  return camelize(params) as SubmitJobRequest;
}

function camelize(value: unknown, userKeyed = false): unknown {
  if (Array.isArray(value)) return value.map((v) => camelize(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const name = userKeyed ? k : k.charAt(0).toLowerCase() + k.slice(1);
    out[name] = userKeyed ? v : camelize(v, USER_KEYED.has(name));
  }
  return out;
}
