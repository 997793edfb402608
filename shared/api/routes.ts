/**
 * The API's routes in one table: method, path, the zod schemas of each input part, and
 * the domain call. functions/api.ts turns the table into middy routes; docs/api.md and
 * serverless.yml's `httpApi` events list the same routes (a test checks they agree).
 */
import * as z from '../zod.ts';
import { PARAMETER_VALUE_MAX_LENGTH } from '../config/pattern.ts';
import { NameSchema } from '../config/schema.ts';
import { isReservedScheduleName, RESERVED_SCHEDULE_PREFIX } from '../engine/naming.ts';
import { RunStatusSchema } from '../store/schema.ts';
import { backfill } from './backfill.ts';
import { MonthSchema, scheduleCalendar } from './calendar.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiResult, RequestSchemas } from './http.ts';
import { cancelRun, findRunByJobId, IDEMPOTENCY_KEY_MAX, JOB_ID_PATTERN, LIST_LIMIT, listRuns, readRunLogs, rerunRun, showRun, triggerRun } from './runs.ts';
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  setManyPaused,
  setSchedulePaused,
  updateSchedule,
} from './schedules.ts';

/** The validated inputs a route's `run` receives. */
export interface RouteInput<P, Q, B, H> {
  path: P;
  query: Q;
  body: B;
  headers: H;
}

/** One route of the API. */
export interface ApiRoute<P = any, Q = any, B = any, H = any> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** One line for docs and `--help`. */
  summary: string;
  schemas: RequestSchemas<P, Q, B, H>;
  run: (input: RouteInput<P, Q, B, H>, deps: ApiDeps) => Promise<ApiResult>;
}

// `route` keeps each entry's input types tied to its schemas while the table holds them all.
function route<P, Q, B, H>(r: ApiRoute<P, Q, B, H>): ApiRoute<P, Q, B, H> {
  return r;
}

// Not strict: behind a catch-all `/{proxy+}` route the router's parameters sit beside API Gateway's `proxy`.
const ScheduleName = z.object({ name: z.string().check(z.minLength(1), z.maxLength(64)) });
const RunId = z.object({ id: z.string().check(z.minLength(1), z.maxLength(256)) });
const NoQuery = z.strictObject({});

/** A whole number in a query string (`?limit=20`), refused with the range when it is not. */
const queryInt = (min: number, max: number) => {
  const digits = z.string().check(z.regex(/^\d+$/, { error: `must be a whole number between ${min} and ${max}` }));
  const inRange = z.number().check(z.minimum(min, { error: `must be between ${min} and ${max}` }), z.maximum(max, { error: `must be between ${min} and ${max}` }));
  return z.pipe(z.pipe(digits, z.transform(Number)), inRange);
};

const TriggerBody = z.optional(
  z.strictObject({
    /** Values are strings, as Batch parameters and environment variables are. */
    parameters: z.optional(
      z.record(
        z.string(),
        z.string().check(z.maxLength(PARAMETER_VALUE_MAX_LENGTH, { error: `must be at most ${PARAMETER_VALUE_MAX_LENGTH} characters` })),
      ),
    ),
  }),
);

const IdempotencyHeaders = z.looseObject({
  'idempotency-key': z.optional(
    z
      .string()
      .check(
        z.minLength(1),
        z.maxLength(IDEMPOTENCY_KEY_MAX, { error: `must be at most ${IDEMPOTENCY_KEY_MAX} characters` }),
        z.regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' }),
      ),
  ),
});

// The plain-words map of shared/api/http.ts says what a date-time must look like.
const Instant = z.iso.datetime({ offset: true });

const BackfillBody = z.strictObject({
  from: Instant,
  to: Instant,
  /** How many backfilled runs may be active at once (1: one after another). */
  parallel: z.optional(z.number().check(z.int({ error: 'must be a whole number between 1 and 50' }), z.minimum(1, { error: 'must be between 1 and 50' }), z.maximum(50, { error: 'must be between 1 and 50' }))),
  /** Times whose run ended with one of these statuses are re-run (their failed and cancelled tasks), once per session. */
  rerun: z.optional(z.array(z.enum(['skipped', 'failed'])).check(z.maxLength(2))),
  /** Names one backfill across its repeated requests (the CLI sends one per invocation); default: the range. */
  session: z.optional(z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' }))),
});

const RerunBody = z.optional(z.strictObject({ tasks: z.optional(z.enum(['all', 'failed'])) }));

const SelectorBody = z
  .strictObject({
    prefix: z.optional(z.string().check(z.maxLength(64))),
    tag: z.optional(z.strictObject({ key: z.string().check(z.minLength(1)), value: z.string() })),
  })
  .check(
    z.refine((b) => b.prefix !== undefined || b.tag !== undefined, {
      error: 'needs "prefix" or "tag" (use "prefix": "" to select every schedule)',
    }),
  );

/**
 * A dynamic schedule's name: never one of Batchron's own (the sweeper, retries, deferrals;
 * shared/engine/naming.ts), said in those words before the general name rule.
 */
const DynamicScheduleName = z.pipe(
  z.string().check(
    z.refine((name) => !isReservedScheduleName(name), {
      error: `names starting with "${RESERVED_SCHEDULE_PREFIX}" are reserved for Batchron's own schedules (the sweeper, retries and deferrals)`,
    }),
  ),
  NameSchema,
);

const CreateScheduleBody = z.looseObject({ name: DynamicScheduleName });
const ScheduleBody = z.record(z.string(), z.unknown());

/** Every route of the API. */
export const apiRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/schedules',
    summary: 'List schedules (declared and dynamic) with next fire times, paused flag and last run',
    schemas: { query: NoQuery },
    run: async (_input, deps) => ({ status: 200, body: await listSchedules(deps) }),
  }),
  route({
    method: 'POST',
    path: '/schedules',
    summary: 'Create a dynamic schedule (body: a schedule as in serverless.yml, plus "name")',
    schemas: { body: CreateScheduleBody },
    run: async ({ body }, deps) => {
      const { name, ...spec } = body;
      return { status: 201, body: await createSchedule(deps, name, spec) };
    },
  }),
  route({
    method: 'POST',
    path: '/schedules/pause',
    summary: 'Pause every schedule matching { prefix?, tag? } (a maintenance window)',
    schemas: { body: SelectorBody },
    run: async ({ body }, deps) => ({ status: 200, body: await setManyPaused(deps, body, true) }),
  }),
  route({
    method: 'POST',
    path: '/schedules/resume',
    summary: 'Resume every schedule matching { prefix?, tag? }',
    schemas: { body: SelectorBody },
    run: async ({ body }, deps) => ({ status: 200, body: await setManyPaused(deps, body, false) }),
  }),
  route({
    method: 'GET',
    path: '/schedules/{name}',
    summary: 'Show one schedule',
    schemas: { path: ScheduleName, query: NoQuery },
    run: async ({ path }, deps) => ({ status: 200, body: await getSchedule(deps, path.name) }),
  }),
  route({
    method: 'GET',
    path: '/schedules/{name}/calendar',
    summary: "A month of the schedule on its own clock: each day's runs by outcome and its next fires: ?month=YYYY-MM (default: this month)",
    schemas: { path: ScheduleName, query: z.strictObject({ month: z.optional(MonthSchema) }) },
    run: async ({ path, query }, deps) => ({ status: 200, body: await scheduleCalendar(deps, path.name, query.month) }),
  }),
  route({
    method: 'PUT',
    path: '/schedules/{name}',
    summary: 'Replace a dynamic schedule (409 for a declared one)',
    schemas: { path: ScheduleName, body: ScheduleBody },
    run: async ({ path, body }, deps) => ({ status: 200, body: await updateSchedule(deps, path.name, body) }),
  }),
  route({
    method: 'DELETE',
    path: '/schedules/{name}',
    summary: 'Delete a dynamic schedule (409 for a declared one); its runs stay',
    schemas: { path: ScheduleName },
    run: async ({ path }, deps) => ({ status: 200, body: await deleteSchedule(deps, path.name) }),
  }),
  route({
    method: 'POST',
    path: '/schedules/{name}/pause',
    summary: 'Pause a schedule (kept across deploys)',
    schemas: { path: ScheduleName },
    run: async ({ path }, deps) => ({ status: 200, body: await setSchedulePaused(deps, path.name, true) }),
  }),
  route({
    method: 'POST',
    path: '/schedules/{name}/resume',
    summary: 'Resume a schedule',
    schemas: { path: ScheduleName },
    run: async ({ path }, deps) => ({ status: 200, body: await setSchedulePaused(deps, path.name, false) }),
  }),
  route({
    method: 'POST',
    path: '/schedules/{name}/runs',
    summary: 'Start a run now with parameters; Idempotency-Key header makes retries safe',
    schemas: { path: ScheduleName, body: TriggerBody, headers: IdempotencyHeaders },
    run: async ({ path, body, headers }, deps) => {
      const key = headers['idempotency-key'];
      const { run, created } = await triggerRun(deps, {
        schedule: path.name,
        parameters: body?.parameters ?? {},
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      });
      return { status: created ? 201 : 200, body: run, headers: { location: `/runs/${encodeURIComponent(run.runId)}` } };
    },
  }),
  route({
    method: 'POST',
    path: '/schedules/{name}/backfill',
    summary: "Run the schedule's series in [from, to) (at most 500), `parallel` at a time; repeat until `done`",
    schemas: { path: ScheduleName, body: BackfillBody },
    run: async ({ path, body }, deps) => {
      const result = await backfill(deps, {
        schedule: path.name,
        from: new Date(body.from),
        to: new Date(body.to),
        ...(body.parallel !== undefined ? { parallel: body.parallel } : {}),
        ...(body.rerun !== undefined ? { rerun: body.rerun } : {}),
        ...(body.session !== undefined ? { session: body.session } : {}),
      });
      return { status: result.created + result.rerun > 0 ? 201 : 200, body: result };
    },
  }),
  route({
    method: 'GET',
    path: '/runs',
    summary: 'List runs, newest first: ?schedule=&status=&scheduledFrom=&scheduledTo=&limit=&cursor=, or the run of a Batch job: ?jobId=',
    schemas: {
      query: z.strictObject({
        /** The run of this Batch job (alone: no other filter). */
        jobId: z.optional(
          z.string().check(z.regex(JOB_ID_PATTERN, { error: 'must be a Batch job id (e.g. 4f1b6c2e-8a7d-4a43-9a0e-2b8f2f0c9d11)' })),
        ),
        schedule: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
        status: z.optional(RunStatusSchema),
        limit: z.optional(queryInt(1, LIST_LIMIT.max)),
        cursor: z.optional(z.string()),
        /** Scheduled-time range [scheduledFrom, scheduledTo), ISO-8601 with a zone. */
        scheduledFrom: z.optional(Instant),
        scheduledTo: z.optional(Instant),
      }).check(
        z.refine((q) => q.jobId === undefined || Object.keys(q).length === 1, {
          error: 'jobId finds one run and takes no other filter (schedule, status, scheduledFrom, scheduledTo, limit, cursor)',
          path: ['jobId'],
        }),
      ),
    },
    run: async ({ query }, deps) => {
      const { jobId, ...filters } = query;
      return { status: 200, body: jobId !== undefined ? await findRunByJobId(deps, jobId) : await listRuns(deps, filters) };
    },
  }),
  route({
    method: 'GET',
    path: '/runs/{id}',
    summary: 'Show a run: tasks, attempts, job ids, exit codes, status reasons, log locations',
    schemas: { path: RunId, query: NoQuery },
    run: async ({ path }, deps) => ({ status: 200, body: await showRun(deps, path.id) }),
  }),
  route({
    method: 'POST',
    path: '/runs/{id}/cancel',
    summary: 'Cancel a run and terminate its jobs (409 when it already finished)',
    schemas: { path: RunId },
    run: async ({ path }, deps) => ({ status: 200, body: await cancelRun(deps, path.id) }),
  }),
  route({
    method: 'POST',
    path: '/runs/{id}/rerun',
    summary: "Re-run a finished run as its next attempt: tasks 'all' (default) or 'failed' (failed and cancelled only); Idempotency-Key makes retries safe",
    schemas: { path: RunId, body: RerunBody, headers: IdempotencyHeaders },
    run: async ({ path, body, headers }, deps) => {
      const key = headers['idempotency-key'];
      const { run, created } = await rerunRun(deps, path.id, { tasks: body?.tasks ?? 'all', ...(key !== undefined ? { key } : {}) });
      return { status: created ? 201 : 200, body: run };
    },
  }),
  route({
    method: 'GET',
    path: '/runs/{id}/logs',
    summary: "Read a task attempt's log: ?task=&attempt=&nextToken=&limit=",
    schemas: {
      path: RunId,
      query: z.strictObject({
        task: z.optional(z.string().check(z.minLength(1))),
        attempt: z.optional(queryInt(1, 10)),
        nextToken: z.optional(z.string().check(z.minLength(1))),
        limit: z.optional(queryInt(1, 10_000)),
      }),
    },
    run: async ({ path, query }, deps) => ({ status: 200, body: await readRunLogs(deps, { runId: path.id, ...query }) }),
  }),
];
