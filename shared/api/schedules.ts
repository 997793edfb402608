/**
 * Schedules through the API. EventBridge Scheduler is the registry (see
 * shared/config/definition.ts): every schedule of the deployment is a Scheduler schedule
 * in its group whose target is `fire` and whose input carries the normalized definition.
 * A schedule created through the API is marked `"origin": "api"` in that input (fire's
 * schema ignores the extra key); the rest were declared in serverless.yml and belong to
 * the deployment, so the API refuses to edit or delete them.
 *
 * Pausing writes two places: the schedule-state item in DynamoDB, which `fire` checks and
 * which survives a deploy that re-applies `State: ENABLED` from the template, and the
 * Scheduler schedule's own State, so a paused schedule does not even invoke `fire`.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  type GetScheduleCommandOutput,
  type UpdateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { ListRulesCommand, ListTargetsByRuleCommand, ResourceNotFoundException as EventsNotFound } from '@aws-sdk/client-eventbridge';
import pLimit from 'p-limit';
import * as z from '../zod.ts';
import { ScheduleDefinitionSchema, type ScheduleDefinition } from '../config/definition.ts';
import { ScheduleSchema } from '../config/schema.ts';
import { deploymentContext, EVENT_JSON_PLACEHOLDER, fireInputTemplate, normalizeSchedule, parseConfig } from '../config/validate.ts';
import { FIRE_RETRY_POLICY } from '../config/cloudformation.ts';
import { ConfigError, ConflictError, NotFoundError } from '../errors.ts';
import { localIso } from '../expressions/index.ts';
import { nextFires, seriesOfSchedule, type SeriesSpec } from '../expressions/series.ts';
import { deadlineView, type DeadlineView } from '../engine/deadline.ts';
import type { DeadlineRecord } from '../store/deadline-item.ts';
import type { RunSummary, ScheduleState } from '../store/schema.ts';
import type { ApiDeps } from './deps.ts';
import { batchReferenceProblems, taskCommands, type DefinitionCache } from './batch-refs.ts';
import { validationError, type Issue } from './http.ts';

/** The target input as the registry reads it; only what a Batchron schedule must carry. */
const RegistryInputSchema = z.object({
  schedule: z.string(),
  definition: ScheduleDefinitionSchema,
  origin: z.optional(z.literal('api')),
});

/** One schedule as the registry knows it. */
export interface ScheduleEntry {
  name: string;
  definition: ScheduleDefinition;
  origin: 'declared' | 'api';
  /** Scheduler's own state. */
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  startDate?: Date;
  endDate?: Date;
  /** The Scheduler schedule; absent for a schedule started only by event triggers (it has none). */
  raw?: GetScheduleCommandOutput;
}

/** A schedule the Scheduler fires (it has its Scheduler schedule). */
export type TimedScheduleEntry = ScheduleEntry & { raw: GetScheduleCommandOutput };

function toEntry(out: GetScheduleCommandOutput): TimedScheduleEntry | undefined {
  if (!out.Name || !out.Target?.Input) return undefined;
  let parsed;
  try {
    parsed = RegistryInputSchema.safeParse(JSON.parse(out.Target.Input));
  } catch {
    return undefined; // not JSON: not a schedule of ours
  }
  if (!parsed.success) return undefined;
  return {
    name: out.Name,
    definition: parsed.data.definition,
    origin: parsed.data.origin === 'api' ? 'api' : 'declared',
    state: out.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
    ...(out.Description ? { description: out.Description } : {}),
    ...(out.StartDate ? { startDate: out.StartDate } : {}),
    ...(out.EndDate ? { endDate: out.EndDate } : {}),
    raw: out,
  };
}

/** Reads one schedule; NotFoundError when the group has no Batchron schedule of that name. */
export async function getScheduleEntry(deps: ApiDeps, name: string): Promise<TimedScheduleEntry> {
  let out: GetScheduleCommandOutput;
  try {
    out = await deps.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: deps.env.scheduleGroup }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) throw new NotFoundError(`Schedule '${name}' does not exist.`, { cause: error });
    throw error;
  }
  const entry = out.Target?.Arn === deps.env.fireTargetArn ? toEntry(out) : undefined;
  if (!entry) throw new NotFoundError(`Schedule '${name}' does not exist.`);
  return entry;
}

/**
 * One schedule, timed (Scheduler) or started only by event triggers (its rules): what the
 * read-only views, pausing and ad hoc runs accept. NotFoundError when it is neither.
 */
export async function getAnyScheduleEntry(deps: ApiDeps, name: string): Promise<ScheduleEntry> {
  try {
    return await getScheduleEntry(deps, name);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const triggered = (await listTriggerOnlyEntries(deps, name)).find((e) => e.name === name);
    if (!triggered) throw error;
    return triggered;
  }
}

/**
 * Every Batchron schedule of the group, by name. Internal schedules (the sweeper, one-time
 * retries) target other functions and are left out by the target ARN.
 */
export async function listScheduleEntries(deps: ApiDeps): Promise<TimedScheduleEntry[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await deps.scheduler.send(new ListSchedulesCommand({ GroupName: deps.env.scheduleGroup, NextToken: token }));
    for (const s of page.Schedules ?? []) {
      if (s.Name && s.Target?.Arn === deps.env.fireTargetArn) names.push(s.Name);
    }
    token = page.NextToken;
  } while (token);
  // ListSchedules has no target input; one GetSchedule per schedule, a few at a time to stay under Scheduler's rate.
  const limit = pLimit(8);
  const entries = await Promise.all(
    names.map((name) =>
      limit(async () => {
        try {
          return toEntry(await deps.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: deps.env.scheduleGroup })));
        } catch (error) {
          if (error instanceof ResourceNotFoundException) return undefined; // deleted meanwhile
          throw error;
        }
      }),
    ),
  );
  return entries.filter((e): e is TimedScheduleEntry => e !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}

const EVENT_MEMBER = `,"event":${EVENT_JSON_PLACEHOLDER}}`;

/** A trigger rule's target input as the registry reads it: the template with the event left out. */
const TriggerTemplateSchema = z.object({ schedule: z.string(), trigger: z.number(), definition: ScheduleDefinitionSchema });

/**
 * The schedules started only by event triggers (`on:` and no time expression): they have no
 * Scheduler schedule, only their EventBridge rules (`<deployment>-<schedule>-on<index>`,
 * shared/config/cloudformation.ts) whose `trigger` target carries the definition, as a
 * Scheduler target does. A schedule with both a time expression and triggers is the
 * Scheduler's and is left out here.
 */
export async function listTriggerOnlyEntries(deps: ApiDeps, schedule?: string): Promise<ScheduleEntry[]> {
  const rules: { name: string; state: string | undefined }[] = [];
  // One schedule's rules only, when it is named (others whose name starts the same are left out below).
  const prefix = schedule === undefined ? `${deps.env.deployment}-` : `${deps.env.deployment}-${schedule}-on`;
  let token: string | undefined;
  do {
    const page = await deps.events.send(new ListRulesCommand({ NamePrefix: prefix, NextToken: token }));
    for (const r of page.Rules ?? []) if (r.Name && /-on\d+$/.test(r.Name)) rules.push({ name: r.Name, state: r.State });
    token = page.NextToken;
  } while (token);
  const limit = pLimit(8);
  const found = await Promise.all(
    rules.map((rule) =>
      limit(async () => {
        let targets;
        try {
          targets = (await deps.events.send(new ListTargetsByRuleCommand({ Rule: rule.name }))).Targets ?? [];
        } catch (error) {
          if (error instanceof EventsNotFound) return undefined; // deleted meanwhile
          throw error;
        }
        // The template is JSON with the event's placeholder as its last member (triggerInputTemplate).
        const template = targets.find((t) => t.Id === 'trigger')?.InputTransformer?.InputTemplate;
        if (!template?.endsWith(EVENT_MEMBER)) return undefined;
        let parsed;
        try {
          parsed = TriggerTemplateSchema.safeParse(JSON.parse(`${template.slice(0, -EVENT_MEMBER.length)}}`));
        } catch {
          return undefined; // not JSON: not a rule of ours
        }
        return parsed.success ? { ...parsed.data, enabled: rule.state === 'ENABLED' } : undefined;
      }),
    ),
  );
  const bySchedule = new Map<string, ScheduleEntry>();
  for (const f of found) {
    if (!f || f.definition.expression !== undefined) continue;
    const seen = bySchedule.get(f.schedule);
    if (seen) {
      // One rule per trigger: the schedule is enabled when any of them is.
      if (f.enabled) seen.state = 'ENABLED';
      continue;
    }
    bySchedule.set(f.schedule, {
      name: f.schedule,
      definition: f.definition,
      origin: 'declared',
      state: f.enabled ? 'ENABLED' : 'DISABLED',
    });
  }
  return [...bySchedule.values()];
}

/** A schedule as the API shows it. */
export interface ScheduleView {
  name: string;
  /** `declared`: managed by serverless.yml (edit, deploy); `dynamic`: created through the API. */
  source: 'declared' | 'dynamic';
  /** The same as `source`, under its older name (`api` = dynamic). */
  origin: 'declared' | 'api';
  description?: string;
  expression: string;
  timezone: string;
  overlap: string;
  /** Scheduler's state; false for a schedule declared `enabled: false` or paused. */
  enabled: boolean;
  paused: boolean;
  startDate?: string;
  endDate?: string;
  /**
   * `time`: fired by its expression (and maybe events too); `events`: started only by its
   * `on:` event triggers, so it has no expression and no next fire times.
   */
  firedBy: 'time' | 'events';
  /** The next five fire times (UTC ISO) and the same on the schedule's wall clock. */
  nextFireTimes: string[];
  nextFireTimesLocal: string[];
  parameters: ScheduleDefinition['parameters'];
  /**
   * `command`: what the task runs, its own when the schedule overrides it (`commandFrom:
   * "schedule"`), else its job definition's (`"jobDefinition"`; null when Batch has no
   * ACTIVE revision of it).
   */
  tasks: TaskView[];
  onFailure: string[];
  tags: Record<string, string>;
  /** The run with the latest scheduled time, whatever its status (`outcome` is its status now). */
  lastRun?: { runId: string; scheduledTime?: string; outcome?: string; status?: string };
  /** A schedule with a deadline: its rule, the next one, and how the last one went (DeadlineViewSchema). */
  deadline?: DeadlineView;
}

/** One task of a schedule as the API shows it. */
export interface TaskView {
  name: string;
  dependsOn: string[];
  jobDefinition: string;
  jobQueue: string;
  command: string[] | null;
  commandFrom: 'schedule' | 'jobDefinition';
}

type Commands = Awaited<ReturnType<typeof taskCommands>>;

/** Shapes a registry entry and its state for the API; `commands` from taskCommands, `last` its latest run by scheduled time. */
export function scheduleView(
  entry: ScheduleEntry,
  state: ScheduleState,
  now: number,
  commands: Commands = new Map(),
  last?: RunSummary,
  lastDeadline?: DeadlineRecord,
): ScheduleView {
  const def = entry.definition;
  let times: Date[] = [];
  try {
    // The schedule's own series (anchored at its StartDate or CreationDate), not a series started now.
    if (entry.raw) times = nextFires(seriesOfSchedule(entry.raw), new Date(now), 5);
  } catch {
    // A definition written by an older version that this one cannot evaluate: show no times rather than fail the listing.
  }
  return {
    name: entry.name,
    source: entry.origin === 'api' ? 'dynamic' : 'declared',
    origin: entry.origin,
    ...(entry.description ? { description: entry.description } : {}),
    expression: def.expression ?? '',
    timezone: def.timezone,
    overlap: def.overlap,
    firedBy: entry.raw ? 'time' : 'events',
    enabled: entry.state === 'ENABLED',
    paused: state.paused,
    ...(entry.startDate ? { startDate: entry.startDate.toISOString() } : {}),
    ...(entry.endDate ? { endDate: entry.endDate.toISOString() } : {}),
    nextFireTimes: times.map((t) => t.toISOString()),
    nextFireTimesLocal: times.map((t) => localIso(t, def.timezone)),
    parameters: def.parameters,
    tasks: def.tasks.map((t) => ({
      name: t.name,
      dependsOn: t.dependsOn,
      jobDefinition: t.jobDefinition,
      jobQueue: t.jobQueue,
      ...(commands.get(t.name) ?? { command: t.command ?? null, commandFrom: t.command ? ('schedule' as const) : ('jobDefinition' as const) }),
    })),
    onFailure: def.onFailure.map((t) => t.name),
    tags: def.tags,
    ...(last
      ? { lastRun: { runId: last.runId, scheduledTime: last.scheduledTime, outcome: last.status, status: last.status } }
      : {}),
    ...(def.deadline ? { deadline: deadlineView({ ...def, deadline: def.deadline }, seriesOf(entry), now, lastDeadline) } : {}),
  };
}

function seriesOf(entry: ScheduleEntry): SeriesSpec | undefined {
  // A schedule only events start has no series.
  if (!entry.raw) return undefined;
  try {
    return seriesOfSchedule(entry.raw);
  } catch {
    return undefined;
  }
}

/** The state, the latest run and (with a deadline) the latest deadline record of one schedule, read together. */
async function stateAndLast(deps: ApiDeps, entry: ScheduleEntry): Promise<[ScheduleState, RunSummary | undefined, DeadlineRecord | undefined]> {
  const name = entry.name;
  return Promise.all([
    deps.store.getScheduleState(name),
    deps.store.latestRunByScheduledTime(name),
    entry.definition.deadline && deps.deadlines ? deps.deadlines.latestDeadline(name, new Date(deps.now()).toISOString()) : undefined,
  ]);
}

/** GET /schedules: the Scheduler's schedules and the ones only event triggers start, by name. */
export async function listSchedules(deps: ApiDeps): Promise<{ schedules: ScheduleView[] }> {
  const [timed, triggered] = await Promise.all([listScheduleEntries(deps), listTriggerOnlyEntries(deps)]);
  const names = new Set(timed.map((e) => e.name));
  const entries = [...timed, ...triggered.filter((e) => !names.has(e.name))].sort((a, b) => a.name.localeCompare(b.name));
  const limit = pLimit(8);
  const now = deps.now();
  // One DescribeJobDefinitions per job definition the listing names, not per task.
  const definitions: DefinitionCache = new Map();
  const schedules = await Promise.all(
    entries.map((e) =>
      limit(async () => {
        const [state, last, deadline] = await stateAndLast(deps, e);
        return scheduleView(e, state, now, await taskCommands(deps.batch, e.definition.tasks, definitions), last, deadline);
      }),
    ),
  );
  return { schedules };
}

/** GET /schedules/{name}. */
export async function getSchedule(deps: ApiDeps, name: string): Promise<ScheduleView> {
  const entry = await getAnyScheduleEntry(deps, name);
  const [state, last, deadline] = await stateAndLast(deps, entry);
  return scheduleView(entry, state, deps.now(), await taskCommands(deps.batch, entry.definition.tasks), last, deadline);
}

/** The UpdateSchedule input that rewrites `out` with `changes` (UpdateSchedule replaces every field). */
function updateInput(out: GetScheduleCommandOutput, changes: Partial<UpdateScheduleCommandInput>): UpdateScheduleCommandInput {
  return {
    Name: out.Name,
    GroupName: out.GroupName,
    ScheduleExpression: out.ScheduleExpression,
    ScheduleExpressionTimezone: out.ScheduleExpressionTimezone,
    StartDate: out.StartDate,
    EndDate: out.EndDate,
    Description: out.Description,
    State: out.State,
    KmsKeyArn: out.KmsKeyArn,
    FlexibleTimeWindow: out.FlexibleTimeWindow ?? { Mode: 'OFF' },
    Target: out.Target,
    ActionAfterCompletion: out.ActionAfterCompletion,
    ...changes,
  } as UpdateScheduleCommandInput;
}

/**
 * Pauses or resumes one schedule: the DynamoDB flag first (what `fire` obeys, and what a
 * deploy cannot undo), then Scheduler's State.
 */
export async function setSchedulePaused(deps: ApiDeps, name: string, paused: boolean): Promise<ScheduleView> {
  const entry = await applyPaused(deps, await getAnyScheduleEntry(deps, name), paused);
  const [state, last, deadline] = await stateAndLast(deps, entry);
  return scheduleView(entry, state, deps.now(), await taskCommands(deps.batch, entry.definition.tasks), last, deadline);
}

async function applyPaused(deps: ApiDeps, entry: ScheduleEntry, paused: boolean): Promise<ScheduleEntry> {
  await deps.store.setPaused(entry.name, paused);
  const wanted = paused ? 'DISABLED' : 'ENABLED';
  // A trigger-only schedule has no Scheduler schedule: the flag alone stops its runs (shared/engine/start.ts).
  if (entry.raw && entry.state !== wanted) {
    await deps.scheduler.send(new UpdateScheduleCommand(updateInput(entry.raw, { State: wanted })));
    entry.state = wanted;
  }
  return entry;
}

/** Which schedules a bulk pause or resume applies to. */
export interface ScheduleSelector {
  prefix?: string;
  tag?: { key: string; value: string };
}

/** POST /schedules/pause and /schedules/resume: every schedule matching the prefix and the tag. */
export async function setManyPaused(
  deps: ApiDeps,
  selector: ScheduleSelector,
  paused: boolean,
): Promise<{ paused: boolean; schedules: string[] }> {
  const entries = [...(await listScheduleEntries(deps)), ...(await listTriggerOnlyEntries(deps))].filter(
    (e) =>
      (selector.prefix === undefined || e.name.startsWith(selector.prefix)) &&
      (selector.tag === undefined || e.definition.tags[selector.tag.key] === selector.tag.value),
  );
  const limit = pLimit(4);
  await Promise.all(entries.map((e) => limit(() => applyPaused(deps, e, paused))));
  return { paused, schedules: entries.map((e) => e.name) };
}

/** The body of POST /schedules and PUT /schedules/{name}: a schedule as in serverless.yml. */
export const DynamicScheduleSchema = ScheduleSchema;
export type DynamicScheduleBody = z.input<typeof ScheduleSchema>;

/**
 * A config problem as an issue of the request body: `schedules.<name>.<field>` is `body.<field>`
 * (the body is the schedule); a problem outside the schedule keeps its config path.
 */
function problemsToIssues(error: ConfigError, name: string): Issue[] {
  const at = `schedules.${name}`;
  return error.issues.map(({ path, message }) => {
    if (path === at) return { path: 'body', message };
    if (path.startsWith(`${at}.`) || path.startsWith(`${at}[`)) return { path: `body${path.slice(at.length)}`, message };
    return { path, message };
  });
}

/**
 * Environment variables that change what a job's process loads or runs before its own
 * code (dynamic linker, language runtimes, shells): setting one is as good as replacing the
 * command, so a dynamic schedule may set them only where command overrides are allowed.
 */
export const COMMAND_LIKE_ENVIRONMENT = [
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'LD_AUDIT',
  'PATH',
  'BASH_ENV',
  'ENV',
  'SHELLOPTS',
  'NODE_OPTIONS',
  'NODE_PATH',
  'PYTHONSTARTUP',
  'PYTHONPATH',
  'PYTHONHOME',
  'PERL5OPT',
  'PERL5LIB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
] as const;

/** Where each task of a schedule was written (`job`, `tasks.<name>`, `onFailure.<name>`), by task name. */
export function taskPaths(spec: z.infer<typeof ScheduleSchema>): Record<string, string> {
  const paths: Record<string, string> = {};
  if (spec.job) paths.main = 'job';
  else for (const name of Object.keys(spec.tasks ?? {})) paths[name] = `tasks.${name}`;
  for (const name of Object.keys(spec.onFailure ?? {})) paths[name] = `onFailure.${name}`;
  return paths;
}

/**
 * What a dynamic schedule may not do unless the deployment allows command overrides
 * (`custom.batchron.api.allowCommandOverride`): replace a job definition's command, or set
 * an environment variable that does the same (COMMAND_LIKE_ENVIRONMENT). Whoever may call
 * the API would otherwise run any code with the jobs' role in the deployment's subnets.
 */
export function commandOverrideIssues(spec: z.infer<typeof ScheduleSchema>, allowCommandOverride: boolean): Issue[] {
  if (allowCommandOverride) return [];
  const issues: Issue[] = [];
  const tasks: [string, z.infer<typeof ScheduleSchema>['job']][] = spec.job
    ? [['job', spec.job]]
    : Object.entries(spec.tasks ?? {}).map(([n, t]) => [`tasks.${n}`, t]);
  tasks.push(...Object.entries(spec.onFailure ?? {}).map(([n, t]): [string, typeof t] => [`onFailure.${n}`, t]));
  const hint = 'the deployment allows it with custom.batchron.api.allowCommandOverride: true';
  for (const [at, task] of tasks) {
    if (task?.command !== undefined) {
      issues.push({ path: `body.${at}.command`, message: `a dynamic schedule cannot override the job definition's command (${hint})` });
    }
    for (const key of Object.keys(task?.environment ?? {})) {
      if ((COMMAND_LIKE_ENVIRONMENT as readonly string[]).includes(key.toUpperCase())) {
        issues.push({
          path: `body.${at}.environment.${key}`,
          message: `a dynamic schedule cannot set ${key}, which changes what the job's process runs (${hint})`,
        });
      }
    }
  }
  return issues;
}

/**
 * Validates and normalizes a dynamic schedule: the same rules as serverless.yml
 * (parseConfig, normalizeSchedule), then what only the API checks: no command override
 * (unless allowed), and that its job definitions and queues exist in Batch with vcpus and
 * memory their platform takes. Every problem comes back in one 400, each naming its field.
 */
export async function normalizeDynamic(
  deps: ApiDeps,
  name: string,
  spec: unknown,
): Promise<{ definition: ScheduleDefinition; spec: z.infer<typeof ScheduleSchema> }> {
  const ctx = deploymentContext(deps.env.deployment, deps.env.defaultQueue);
  const shape = ScheduleSchema.safeParse(spec);
  const early = shape.success ? commandOverrideIssues(shape.data, deps.env.allowCommandOverride) : [];
  let normalized: { definition: ScheduleDefinition; spec: z.infer<typeof ScheduleSchema> };
  try {
    const config = parseConfig({ schedules: { [name]: spec } }, ctx);
    const parsed = config.schedules[name]!;
    normalized = { definition: normalizeSchedule(name, parsed, config, ctx), spec: parsed };
  } catch (error) {
    if (error instanceof ConfigError) throw validationError([...early, ...problemsToIssues(error, name)]);
    throw error;
  }
  // Batch is asked only about a schedule that is otherwise valid: its references are then resolved names.
  const batch = await batchReferenceProblems(deps.batch, normalized.definition, taskPaths(normalized.spec));
  const issues = [...early, ...batch.map((p) => ({ path: `body.${p.where}`, message: p.message }))];
  if (issues.length > 0) throw validationError(issues);
  return normalized;
}

function scheduleFields(deps: ApiDeps, definition: ScheduleDefinition, spec: z.infer<typeof ScheduleSchema>) {
  return {
    GroupName: deps.env.scheduleGroup,
    ScheduleExpression: definition.expression,
    ScheduleExpressionTimezone: definition.timezone,
    ...(spec.startDate ? { StartDate: new Date(spec.startDate) } : {}),
    ...(spec.endDate ? { EndDate: new Date(spec.endDate) } : {}),
    ...(spec.description ? { Description: spec.description } : {}),
    State: spec.enabled ? ('ENABLED' as const) : ('DISABLED' as const),
    FlexibleTimeWindow:
      spec.flexibleWindowMinutes === undefined
        ? { Mode: 'OFF' as const }
        : { Mode: 'FLEXIBLE' as const, MaximumWindowInMinutes: spec.flexibleWindowMinutes },
    Target: {
      Arn: deps.env.fireTargetArn,
      RoleArn: deps.env.schedulerRoleArn,
      Input: JSON.stringify({ ...fireInputTemplate(definition), origin: 'api' }),
      RetryPolicy: { ...FIRE_RETRY_POLICY },
    },
  };
}

/** POST /schedules: creates a dynamic schedule; 409 when the name is taken (declared or dynamic). */
export async function createSchedule(deps: ApiDeps, name: string, spec: unknown): Promise<ScheduleView> {
  const { definition, spec: parsed } = await normalizeDynamic(deps, name, spec);
  // A schedule only events start has no Scheduler schedule to collide with: its name is taken all the same.
  if ((await listTriggerOnlyEntries(deps)).some((e) => e.name === name)) {
    throw new ConflictError(`Schedule '${name}' already exists (declared in serverless.yml, started by events); choose another name.`);
  }
  try {
    await deps.scheduler.send(new CreateScheduleCommand({ Name: name, ...scheduleFields(deps, definition, parsed) }));
  } catch (error) {
    if (error instanceof ConflictException) {
      throw new ConflictError(`Schedule '${name}' already exists; use PUT /schedules/${name} to change a schedule created through the API.`, {
        cause: error,
      });
    }
    throw error;
  }
  return getSchedule(deps, name);
}

/** PUT /schedules/{name}: replaces a dynamic schedule; 409 for a declared one, 404 for none. */
export async function updateSchedule(deps: ApiDeps, name: string, spec: unknown): Promise<ScheduleView> {
  const entry = await getAnyScheduleEntry(deps, name);
  refuseDeclared(entry, 'changed');
  const { definition, spec: parsed } = await normalizeDynamic(deps, name, spec);
  const fields = scheduleFields(deps, definition, parsed);
  // A paused schedule stays paused across an edit; resuming is its own decision.
  const state = await deps.store.getScheduleState(name);
  await deps.scheduler.send(
    new UpdateScheduleCommand({ Name: name, ...fields, ...(state.paused ? { State: 'DISABLED' as const } : {}) }),
  );
  return getSchedule(deps, name);
}

/** DELETE /schedules/{name}: deletes a dynamic schedule; its runs stay in the history. */
export async function deleteSchedule(deps: ApiDeps, name: string): Promise<{ deleted: string }> {
  const entry = await getAnyScheduleEntry(deps, name);
  refuseDeclared(entry, 'deleted');
  try {
    await deps.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: deps.env.scheduleGroup }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  return { deleted: name };
}

function refuseDeclared(entry: ScheduleEntry, verb: string): void {
  if (entry.origin === 'declared') {
    throw new ConflictError(
      `Schedule '${entry.name}' is declared in serverless.yml (source: declared) and can only be ${verb} there: edit serverless.yml, then deploy (or restart \`npm start\`), which ${verb === 'deleted' ? 'deletes a schedule no longer declared and keeps its runs' : 'applies it'}. The API ${verb === 'deleted' ? 'deletes' : 'changes'} only dynamic schedules (created with POST /schedules); pause and resume work for both.`,
    );
  }
}
