/**
 * The per-schedule runtime state item: paused flag, runs active for overlap, the queue-one
 * waiter, and the last outcome (for the "recovered" message).
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { CorruptItemError } from '../errors.ts';
import { unlessConditionFails } from './conditional.ts';
import { scheduleStateKey } from './keys.ts';
import type { Outcome } from '../engine/ports.ts';
import type { StoreDeps } from './runs.ts';
import { ScheduleStateSchema, type ScheduleState } from './schema.ts';

/** Reads a schedule's state; a schedule never touched has an empty state. */
export async function getScheduleState(deps: StoreDeps, schedule: string): Promise<ScheduleState> {
  const out = await deps.doc.send(
    new GetCommand({ TableName: deps.table, Key: scheduleStateKey(schedule), ConsistentRead: true }),
  );
  if (!out.Item) return { ...scheduleStateKey(schedule), kind: 'schedule-state', schedule, paused: false, version: 0 };
  const parsed = ScheduleStateSchema.safeParse(normalizeNone(out.Item));
  if (!parsed.success) throw new CorruptItemError(`schedule state ${schedule} does not match its schema`, { cause: parsed.error });
  return parsed.data;
}

/** Pauses or resumes a schedule: while paused, fires record a SKIPPED run and submit nothing. */
export async function setPaused(deps: StoreDeps, schedule: string, paused: boolean): Promise<void> {
  await deps.doc.send(
    new UpdateCommand({
      TableName: deps.table,
      Key: scheduleStateKey(schedule),
      UpdateExpression: 'SET #paused = :p, #kind = :kind, #schedule = :s ADD #version :one',
      ExpressionAttributeNames: { '#paused': 'paused', '#kind': 'kind', '#schedule': 'schedule', '#version': 'version' },
      ExpressionAttributeValues: { ':p': paused, ':kind': 'schedule-state', ':s': schedule, ':one': 1 },
    }),
  );
}

export type { Outcome };

/**
 * Releases a finished run: drops it from `active` (and from `queued` if it was the waiter)
 * and records its outcome unless a later-scheduled run already did. Idempotent: a second
 * call for the same run changes nothing and reports the same previous outcome.
 * Returns the state after the release and the outcome before this run (for "recovered").
 */
export async function releaseRun(
  deps: StoreDeps,
  input: { schedule: string; runId: string; scheduledTime: string; outcome: Outcome },
): Promise<{ state: ScheduleState; previousOutcome: Outcome | undefined }> {
  const names = {
    '#kind': 'kind',
    '#schedule': 'schedule',
    '#active': 'active',
    '#lastRunId': 'lastRunId',
    '#lastTime': 'lastScheduledTime',
    '#last': 'lastOutcome',
    '#prev': 'prevOutcome',
    '#version': 'version',
  };
  const values = {
    ':kind': 'schedule-state',
    ':s': input.schedule,
    ':id': input.runId,
    ':ids': new Set([input.runId]),
    ':t': input.scheduledTime,
    ':o': input.outcome,
    ':one': 1,
  };
  try {
    const out = await deps.doc.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: scheduleStateKey(input.schedule),
        UpdateExpression:
          'SET #kind = :kind, #schedule = :s, #lastRunId = :id, #lastTime = :t, #last = :o, #prev = if_not_exists(#last, :none) ADD #version :one DELETE #active :ids',
        ConditionExpression: '(attribute_not_exists(#lastRunId) OR #lastRunId <> :id) AND (attribute_not_exists(#lastTime) OR #lastTime <= :t)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':none': 'NONE' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const state = ScheduleStateSchema.parse(normalizeNone(out.Attributes ?? {}));
    return { state: await dropQueued(deps, input.schedule, input.runId, state), previousOutcome: state.prevOutcome };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  // Already recorded (a re-drive), or a later-scheduled run finished first: only leave the active set.
  const out = await deps.doc.send(
    new UpdateCommand({
      TableName: deps.table,
      Key: scheduleStateKey(input.schedule),
      UpdateExpression: 'SET #kind = :kind, #schedule = :s ADD #version :one DELETE #active :ids',
      ExpressionAttributeNames: { '#kind': 'kind', '#schedule': 'schedule', '#active': 'active', '#version': 'version' },
      ExpressionAttributeValues: { ':kind': 'schedule-state', ':s': input.schedule, ':ids': values[':ids'], ':one': 1 },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const state = ScheduleStateSchema.parse(normalizeNone(out.Attributes ?? {}));
  const previousOutcome = state.lastRunId === input.runId ? state.prevOutcome : undefined;
  return { state: await dropQueued(deps, input.schedule, input.runId, state), previousOutcome };
}

/**
 * Clears `queued` if it names `runId` (a waiter that finished without being promoted) and
 * returns the state after: `state` itself (the update's own ALL_NEW, no read) when there was
 * nothing to clear, else the state read again.
 */
async function dropQueued(deps: StoreDeps, schedule: string, runId: string, state: ScheduleState): Promise<ScheduleState> {
  if (state.queued !== runId) return state;
  await unlessConditionFails(
    deps.doc.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: scheduleStateKey(schedule),
        UpdateExpression: 'REMOVE #queued ADD #version :one',
        ConditionExpression: '#queued = :id',
        ExpressionAttributeNames: { '#queued': 'queued', '#version': 'version' },
        ExpressionAttributeValues: { ':id': runId, ':one': 1 },
      }),
    ),
  );
  return getScheduleState(deps, schedule);
}

/**
 * Promotes the queue-one waiter to active once nothing else is: one conditional update, so
 * two finishing runs cannot both promote it. True when this call promoted `runId`.
 */
export async function promoteQueued(deps: StoreDeps, schedule: string, runId: string): Promise<boolean> {
  const promoted = await unlessConditionFails(
    deps.doc.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: scheduleStateKey(schedule),
        UpdateExpression: 'REMOVE #queued ADD #active :ids, #version :one',
        ConditionExpression: '#queued = :id AND attribute_not_exists(#active)',
        ExpressionAttributeNames: { '#queued': 'queued', '#active': 'active', '#version': 'version' },
        ExpressionAttributeValues: { ':id': runId, ':ids': new Set([runId]), ':one': 1 },
      }),
    ),
  );
  return promoted !== undefined;
}

function normalizeNone(item: Record<string, unknown>): Record<string, unknown> {
  // `if_not_exists(#last, :none)` stores NONE for a schedule's first run; read it as absent.
  const copy = { ...item };
  if (copy.prevOutcome === 'NONE') delete copy.prevOutcome;
  return copy;
}
