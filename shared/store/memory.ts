/**
 * The engine's stores in memory, with the conditional semantics of the DynamoDB ones
 * (shared/store/dynamo.ts): a run is created once, a save lands only over the version it
 * read and a lost save returns the run as it stands, a run's creation and its schedule's
 * overlap change happen both or neither, releases and promotions are the same conditional
 * updates. Every method is atomic (it runs to completion before another starts), as each
 * DynamoDB request is. TTL is ignored: nothing expires. Items go in and come out as copies
 * parsed by the same schemas, so a caller can never change what is stored by accident.
 * test/integration/store-contract.test.ts holds this and the DynamoDB store to one contract.
 */
import { CorruptItemError, RunVersionConflictError } from '../errors.ts';
import type { CreateOutcome, ListedRun, OverlapChange, Outcome, Store } from '../engine/ports.ts';
import { definitionHash, scheduleStateKey } from './keys.ts';
import { RunItemSchema, RunSummarySchema, ScheduleStateSchema, type RunItem, type RunStatus, type RunSummary, type ScheduleState } from './schema.ts';

type StoredRun = Omit<RunItem, 'definition'>;

/** What the by-schedule index projects of a run (RunSummarySchema). */
function summaryOf(r: StoredRun): RunSummary {
  return RunSummarySchema.parse({
    runId: r.runId,
    schedule: r.schedule,
    scheduledTime: r.scheduledTime,
    trigger: r.trigger,
    status: r.status,
    statusReason: r.statusReason,
    createdAt: r.createdAt,
    endedAt: r.endedAt,
  });
}

/** A store that keeps everything in this process; `inspect` is for tests that look at raw state. */
export interface MemoryStore extends Store {
  /** How many runs are stored (definitions excluded). */
  readonly size: number;
  /** How many definition versions are stored (one per distinct definition, however many runs name it). */
  readonly definitions: number;
}

/** A new, empty in-memory store. */
export function memoryStore(): MemoryStore {
  const runs = new Map<string, StoredRun>();
  /** Definitions by version hash (as the DynamoDB store's `DEF#<hash>` items), and each run's hash. */
  const definitions = new Map<string, RunItem['definition']>();
  const hashOf = new Map<string, string>();
  const states = new Map<string, Record<string, unknown>>();
  let tat: number | undefined;

  const copy = <T>(value: T): T => structuredClone(value);

  function readRun(runId: string): RunItem | undefined {
    const state = runs.get(runId);
    if (!state) return undefined;
    const definition = definitions.get(hashOf.get(runId) ?? '');
    if (!definition) throw new CorruptItemError(`run ${runId} has no readable definition item`);
    return RunItemSchema.parse(copy({ ...state, definition }));
  }

  function stateItem(run: RunItem): StoredRun {
    const { definition: _definition, ...state } = run;
    return copy(state);
  }

  /** The definition stored once per version, before any run that names it. */
  function putDefinition(run: RunItem): string {
    const h = definitionHash(run.definition);
    if (!definitions.has(h)) definitions.set(h, copy(run.definition));
    return h;
  }

  function readState(schedule: string): ScheduleState {
    const item = states.get(schedule);
    if (!item) return { ...scheduleStateKey(schedule), kind: 'schedule-state', schedule, paused: false, version: 0 };
    const raw = copy(item);
    if (raw.prevOutcome === 'NONE') delete raw.prevOutcome;
    return ScheduleStateSchema.parse(raw);
  }

  /** The stored state item, created (as an UpdateItem creates it) with the key and kind. */
  function stateFor(schedule: string): Record<string, unknown> {
    let item = states.get(schedule);
    if (!item) {
      item = { ...scheduleStateKey(schedule), kind: 'schedule-state', schedule };
      states.set(schedule, item);
    }
    return item;
  }

  /** The runs of `schedule` scheduled in [from, to), earliest first (as GSI1 orders them). */
  function scheduledBetween(schedule: string, from: Date, to: Date): StoredRun[] {
    return [...runs.values()]
      .filter((r) => r.schedule === schedule && r.gsi1sk >= from.toISOString() && Date.parse(r.scheduledTime) < to.getTime())
      .sort((a, b) => (a.gsi1sk < b.gsi1sk ? -1 : a.gsi1sk > b.gsi1sk ? 1 : 0));
  }

  const bump = (item: Record<string, unknown>) => (item.version = ((item.version as number | undefined) ?? 0) + 1);
  const activeOf = (item: Record<string, unknown> | undefined) => item?.active as Set<string> | undefined;
  const notPaused = (item: Record<string, unknown> | undefined) => item?.paused !== true;

  /** Deletes `runId` from the active set; an empty set is no attribute at all (as in DynamoDB). */
  function leaveActive(item: Record<string, unknown>, runId: string): void {
    const active = activeOf(item);
    if (!active) return;
    active.delete(runId);
    if (active.size === 0) delete item.active;
  }

  function overlapHolds(item: Record<string, unknown> | undefined, change: OverlapChange): boolean {
    if (!notPaused(item)) return false;
    switch (change.kind) {
      case 'become-active':
        return activeOf(item) === undefined;
      case 'queue':
        return activeOf(item) !== undefined && item?.queued === undefined;
      case 'replace-active':
        return item?.version === undefined || item.version === change.expectedVersion;
    }
  }

  function applyOverlap(run: RunItem, change: OverlapChange): void {
    const item = stateFor(run.schedule);
    item.kind = 'schedule-state';
    item.schedule = run.schedule;
    if (change.kind === 'become-active') item.active = new Set([...(activeOf(item) ?? []), run.runId]);
    else if (change.kind === 'queue') item.queued = run.runId;
    else item.active = new Set([run.runId]);
    bump(item);
  }

  function dropQueued(schedule: string, runId: string, state: ScheduleState): ScheduleState {
    if (state.queued !== runId) return state;
    const item = states.get(schedule);
    if (item?.queued === runId) {
      delete item.queued;
      bump(item);
    }
    return readState(schedule);
  }

  return {
    get size() {
      return runs.size;
    },

    get definitions() {
      return definitions.size;
    },

    async getRun(runId) {
      return readRun(runId);
    },

    async putNewRun(run) {
      const h = putDefinition(run);
      if (runs.has(run.runId)) return false;
      runs.set(run.runId, stateItem(run));
      hashOf.set(run.runId, h);
      return true;
    },

    async createRunWithState(run, change): Promise<CreateOutcome> {
      const h = putDefinition(run);
      if (runs.has(run.runId)) return 'run-exists';
      if (!overlapHolds(states.get(run.schedule), change)) return 'state-changed';
      runs.set(run.runId, stateItem(run));
      hashOf.set(run.runId, h);
      applyOverlap(run, change);
      return 'created';
    },

    async saveRun(run) {
      const stored = runs.get(run.runId);
      if (!stored || stored.version !== run.version) {
        // As DynamoDB's ReturnValuesOnConditionCheckFailure: the run as it stands, with the definition in hand.
        const current = stored ? RunItemSchema.parse(copy({ ...stored, definition: run.definition })) : undefined;
        throw new RunVersionConflictError(`run ${run.runId} changed since version ${run.version}`, current);
      }
      const next: RunItem = { ...run, version: run.version + 1 };
      runs.set(run.runId, stateItem(next));
      return next;
    },

    async listRunsBySchedule(schedule, options: { limit: number; before?: string; after?: string; status?: RunStatus }) {
      const listed: ListedRun[] = [...runs.values()]
        .filter(
          (r) =>
            r.schedule === schedule &&
            (options.before === undefined || r.gsi1sk < options.before) &&
            (options.after === undefined || r.gsi1sk >= options.after),
        )
        .sort((a, b) => (a.gsi1sk < b.gsi1sk ? 1 : a.gsi1sk > b.gsi1sk ? -1 : 0))
        .filter((r) => options.status === undefined || r.status === options.status)
        .map((r) => ({ sortKey: r.gsi1sk, summary: summaryOf(r) }));
      return { items: listed.slice(0, options.limit), more: listed.length > options.limit };
    },

    async listRunsScheduledBetween(schedule, from, to) {
      return scheduledBetween(schedule, from, to).map(summaryOf);
    },

    async listRunTimesBetween(schedule, from, to) {
      return scheduledBetween(schedule, from, to).map((r) => ({ runId: r.runId, scheduledTime: r.scheduledTime }));
    },

    async latestRunByScheduledTime(schedule) {
      const mine = [...runs.values()].filter((r) => r.schedule === schedule).sort((a, b) => (a.gsi1sk < b.gsi1sk ? 1 : -1));
      return mine[0] ? summaryOf(mine[0]) : undefined;
    },

    async listActiveRunIds() {
      return [...runs.values()].filter((r) => r.activePk !== undefined).map((r) => r.runId);
    },

    async getScheduleState(schedule) {
      return readState(schedule);
    },

    async setPaused(schedule, paused) {
      const item = stateFor(schedule);
      item.paused = paused;
      bump(item);
    },

    async releaseRun(input: { schedule: string; runId: string; scheduledTime: string; outcome: Outcome }) {
      const item = stateFor(input.schedule);
      const first =
        item.lastRunId !== input.runId && (item.lastScheduledTime === undefined || (item.lastScheduledTime as string) <= input.scheduledTime);
      if (first) {
        item.prevOutcome = item.lastOutcome ?? 'NONE';
        item.lastRunId = input.runId;
        item.lastScheduledTime = input.scheduledTime;
        item.lastOutcome = input.outcome;
      }
      bump(item);
      leaveActive(item, input.runId);
      const state = readState(input.schedule);
      const previousOutcome = first || state.lastRunId === input.runId ? state.prevOutcome : undefined;
      return { state: dropQueued(input.schedule, input.runId, state), previousOutcome };
    },

    async promoteQueued(schedule, runId) {
      const item = states.get(schedule);
      if (!item || item.queued !== runId || activeOf(item) !== undefined) return false;
      delete item.queued;
      item.active = new Set([runId]);
      bump(item);
      return true;
    },

    async reserveSubmitSlot(rate, now) {
      const interval = 1000 / rate;
      if (tat === undefined || tat < now) {
        tat = now + interval;
        return now;
      }
      tat += interval;
      return Math.ceil(tat - interval);
    },
  };
}
