/**
 * The store contract (shared/engine/ports.ts), run against both stores: DynamoDB Local
 * (shared/store/dynamo.ts, every expression) and the in-memory store the fast engine tests
 * use (shared/store/memory.ts). The same cases, the same assertions: a run is created once,
 * a save lands only over the version read and a lost one returns the run as it stands, a
 * creation and its overlap change happen both or neither, releases and promotions are
 * idempotent, the pacer spaces slots, listings page newest first with an opaque cursor.
 * The window store of event triggers likewise (shared/store/windows.ts against
 * shared/store/memory-windows.ts): arrivals counted on an open head, an event added once per
 * key while window and part are open, closes idempotent, overdue windows listed by end.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, inject } from 'vitest';
import { newRun, type TransitionContext } from '#shared/engine/run-state';
import type { Store, WindowRef, WindowStore } from '#shared/engine/ports';
import { CorruptItemError, RunVersionConflictError, ValidationError, VersionConflictError } from '#shared/errors';
import { decodeCursor, encodeCursor } from '#shared/store/cursor';
import { dynamoStore } from '#shared/store/dynamo';
import { encodeRun } from '#shared/store/codec';
import { DefinitionCache } from '#shared/store/definitions';
import { definitionHash } from '#shared/store/keys';
import { memoryStore, type MemoryStore } from '#shared/store/memory';
import { memoryWindowStore } from '#shared/store/memory-windows';
import { dynamoWindowStore } from '#shared/store/windows';
import type { RunItem } from '#shared/store/schema';
import { definition, fire, task } from '#test/helpers/engine';
import { useDynamoLocal } from '#test/helpers/dynamodb-local';

const ctx: TransitionContext = { now: Date.parse('2025-05-01T00:00:00Z'), owner: 'o', leaseMs: 60_000, deployment: 'd', retentionDays: 3 };

const ddb = useDynamoLocal();
const table = `store-contract-${process.pid}`;

beforeAll(() => ddb.table(table));

/** A run of `schedule` at `time`, created now (not yet stored). */
function aRun(schedule: string, time: string, runId: string, mode: 'start' | 'skip' | 'hold' = 'start', overlap: 'allow' | 'skip' | 'queue-one' | 'cancel-previous' = 'allow'): RunItem {
  return newRun(fire(definition(schedule, [task('main')], { overlap }), time), { runId, mode, reason: mode === 'start' ? undefined : 'x' }, ctx).run;
}

/** How many definition items the table holds (the DynamoDB store's `DEF#<hash>` items). */
async function definitionItems(): Promise<number> {
  const out = await ddb.doc.send(
    new ScanCommand({ TableName: table, FilterExpression: 'begins_with(pk, :def)', ExpressionAttributeValues: { ':def': 'DEF#' }, Select: 'COUNT' }),
  );
  return out.Count ?? 0;
}

const stores: [string, () => Store, (store: Store) => Promise<number>][] = [
  ['DynamoDB', () => dynamoStore({ doc: ddb.doc, table }), () => definitionItems()],
  ['in-memory', () => memoryStore(), async (store) => (store as MemoryStore).definitions],
];

describe.each(stores)('the %s store', (kind, make, countDefinitions) => {
  // One table for the DynamoDB store: names carry the kind so the cases never share items.
  const n = (name: string) => `${name}-${kind === 'DynamoDB' ? 'd' : 'm'}`;
  let store: Store;
  beforeAll(() => {
    store = make();
  });

  it('lists a schedule’s runs newest first, page by page, with an opaque cursor', async () => {
    // Prepare
    const listed = n('listed');
    for (let h = 0; h < 5; h++) await store.putNewRun(aRun(listed, `2025-05-01T0${h}:00:00Z`, `${listed}.2025050${1}T0${h}0000Z`), 3);
    // Act
    const first = await store.listRunsBySchedule(listed, { limit: 2 });
    const cursor = encodeCursor(first.items.at(-1)!.sortKey);
    const second = await store.listRunsBySchedule(listed, { limit: 2, before: decodeCursor(cursor) });
    const third = await store.listRunsBySchedule(listed, { limit: 2, before: decodeCursor(encodeCursor(second.items.at(-1)!.sortKey)) });
    // Assess
    expect([...first.items, ...second.items, ...third.items].map((r) => r.summary.scheduledTime.slice(11, 13))).toEqual(['04', '03', '02', '01', '00']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(first.more).toBe(true);
    expect(third.items).toHaveLength(1);
    expect(third.more).toBe(false);
    expect(() => decodeCursor('not-a-cursor')).toThrow(ValidationError);
  });

  it('lists a schedule’s runs scheduled in a range: from inclusive, before exclusive', async () => {
    // Prepare
    const s = n('ranged');
    for (let h = 0; h < 5; h++) await store.putNewRun(aRun(s, `2025-05-01T0${h}:00:00Z`, `${s}.${h}`), 3);
    // Act
    const from = await store.listRunsBySchedule(s, { limit: 10, after: '2025-05-01T02:00:00.000Z' });
    const between = await store.listRunsBySchedule(s, { limit: 10, after: '2025-05-01T01:00:00.000Z', before: '2025-05-01T03:00:00.000Z' });
    // Assess
    expect(from.items.map((r) => r.summary.runId)).toEqual([`${s}.4`, `${s}.3`, `${s}.2`]);
    expect(between.items.map((r) => r.summary.runId)).toEqual([`${s}.2`, `${s}.1`]);
  });

  it('lists only the runs in the status asked for, and fills the page past the others', async () => {
    // Prepare: two skipped runs between started ones.
    const s = n('filtered');
    await store.putNewRun(aRun(s, '2025-05-01T00:00:00Z', `${s}.0`), 3);
    await store.putNewRun(aRun(s, '2025-05-01T01:00:00Z', `${s}.1`, 'skip'), 3);
    await store.putNewRun(aRun(s, '2025-05-01T02:00:00Z', `${s}.2`, 'skip'), 3);
    await store.putNewRun(aRun(s, '2025-05-01T03:00:00Z', `${s}.3`), 3);
    // Act
    const page = await store.listRunsBySchedule(s, { limit: 2, status: 'QUEUED' });
    // Assess
    expect(page.items.map((r) => r.summary.runId)).toEqual([`${s}.3`, `${s}.0`]);
    expect(page.items.every((r) => r.summary.status === 'QUEUED')).toBe(true);
  });

  it('finds a schedule’s runs scheduled in a range, earliest first, and its latest run', async () => {
    // Prepare
    const s = n('series');
    for (const h of [3, 0, 2, 1]) await store.putNewRun(aRun(s, `2025-05-01T0${h}:00:00Z`, `${s}.${h}`), 3);
    // Act
    const between = await store.listRunsScheduledBetween(s, new Date('2025-05-01T01:00:00Z'), new Date('2025-05-01T03:00:00Z'));
    const latest = await store.latestRunByScheduledTime(s);
    // Assess: [from, to): 01:00 and 02:00, not 03:00.
    expect(between.map((r) => r.runId)).toEqual([`${s}.1`, `${s}.2`]);
    expect(latest?.runId).toBe(`${s}.3`);
    expect(await store.latestRunByScheduledTime(n('no-runs'))).toBeUndefined();
  });

  it('lists each run with its status as of its last save, and its scheduled time from the index alone', async () => {
    // Prepare: two runs; the later one ends.
    const s = n('saved-status');
    await store.putNewRun(aRun(s, '2025-05-01T00:00:00Z', `${s}.0`), 3);
    const run = aRun(s, '2025-05-01T01:00:00Z', `${s}.1`);
    await store.putNewRun(run, 3);
    await store.saveRun({ ...run, status: 'FAILED', statusReason: 'main failed (exit 3)', endedAt: '2025-05-01T01:05:00.000Z' });
    // Act
    const failed = await store.listRunsBySchedule(s, { limit: 10, status: 'FAILED' });
    const between = await store.listRunsScheduledBetween(s, new Date('2025-05-01T00:00:00Z'), new Date('2025-05-01T02:00:00Z'));
    const latest = await store.latestRunByScheduledTime(s);
    const times = await store.listRunTimesBetween(s, new Date('2025-05-01T00:00:00Z'), new Date('2025-05-01T02:00:00Z'));
    // Assess
    const ended = { runId: `${s}.1`, status: 'FAILED', statusReason: 'main failed (exit 3)', endedAt: '2025-05-01T01:05:00.000Z' };
    expect(failed.items.map((r) => r.summary)).toEqual([expect.objectContaining(ended)]);
    expect(between.map((r) => [r.runId, r.status])).toEqual([[`${s}.0`, 'QUEUED'], [`${s}.1`, 'FAILED']]);
    expect(latest).toEqual(expect.objectContaining(ended));
    expect(times).toEqual([
      { runId: `${s}.0`, scheduledTime: '2025-05-01T00:00:00.000Z' },
      { runId: `${s}.1`, scheduledTime: '2025-05-01T01:00:00.000Z' },
    ]);
  });

  it('creates a run once and refuses a write over a version it did not read', async () => {
    // Prepare
    const run = aRun(n('once'), '2025-05-01T00:00:00Z', `${n('once')}.1`);
    // Act
    const created = await store.putNewRun(run, 3);
    const duplicate = await store.putNewRun(run, 3);
    const saved = await store.saveRun({ ...run, statusReason: 'first writer' });
    // Assess
    expect(created).toBe(true);
    expect(duplicate).toBe(false);
    expect(saved.version).toBe(1);
    await expect(store.saveRun({ ...run, statusReason: 'stale writer' })).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.getRun(run.runId))?.statusReason).toBe('first writer');
  });

  it('hands a writer that lost a version race the run as it stands, so it need not read again', async () => {
    // Prepare
    const run = aRun(n('raced'), '2025-05-01T00:00:00Z', `${n('raced')}.1`);
    await store.putNewRun(run, 3);
    await store.saveRun({ ...run, statusReason: 'winner' });
    // Act
    const lost = await store.saveRun({ ...run, statusReason: 'loser' }).catch((error: unknown) => error);
    const gone = await store.saveRun(aRun(n('raced'), '2025-05-01T01:00:00Z', `${n('raced')}.never-created`)).catch((error: unknown) => error);
    // Assess
    expect(lost).toBeInstanceOf(RunVersionConflictError);
    expect((lost as RunVersionConflictError).current).toEqual(await store.getRun(run.runId));
    expect((lost as RunVersionConflictError).current?.statusReason).toBe('winner');
    expect(gone).toBeInstanceOf(RunVersionConflictError);
    expect((gone as RunVersionConflictError).current).toBeUndefined();
  });

  it('returns copies: changing a run in hand changes nothing stored', async () => {
    const run = aRun(n('copied'), '2025-05-01T00:00:00Z', `${n('copied')}.1`);
    await store.putNewRun(run, 3);
    const read = (await store.getRun(run.runId))!;
    read.tasks.main!.status = 'FAILED';
    run.parameters.added = 'x';
    expect((await store.getRun(run.runId))?.tasks.main?.status).toBe('READY');
    expect((await store.getRun(run.runId))?.parameters).toEqual({});
  });

  it('finds unfinished runs through the active index only, and keeps the TTL it was given', async () => {
    // Prepare
    const s = n('active');
    const live = aRun(s, '2025-05-01T00:00:00Z', `${s}.live`);
    const skipped = aRun(s, '2025-05-01T01:00:00Z', `${s}.skipped`, 'skip');
    await store.putNewRun(live, 3);
    await store.putNewRun(skipped, 3);
    // Act
    const ids = await store.listActiveRunIds();
    // Assess
    expect(ids).toContain(live.runId);
    expect(ids).not.toContain(skipped.runId);
    expect(skipped.expiresAt).toBe(Math.floor(ctx.now / 1000) + 3 * 86_400);
    expect((await store.getRun(skipped.runId))?.expiresAt).toBe(skipped.expiresAt);
  });

  it('stores a definition once per version: later runs of it add none, a changed definition adds one', async () => {
    // Prepare
    const s = n('versioned');
    const before = await countDefinitions(store);
    const first = aRun(s, '2025-05-01T00:00:00Z', `${s}.0`);
    // Act: three runs of one definition (one created with its overlap state), then one of a changed definition.
    await store.putNewRun(first, 3);
    await store.putNewRun(aRun(s, '2025-05-01T01:00:00Z', `${s}.1`), 3);
    expect(await store.createRunWithState(aRun(s, '2025-05-01T02:00:00Z', `${s}.2`), { kind: 'become-active' }, 3)).toBe('created');
    const afterOne = await countDefinitions(store);
    const changedRun = newRun(fire(definition(s, [task('main'), task('second', 'exit 0', { dependsOn: ['main'] })]), '2025-05-01T03:00:00Z'), { runId: `${s}.3`, mode: 'start' }, ctx).run;
    await store.putNewRun(changedRun, 3);
    const afterChange = await countDefinitions(store);
    // Assess: each run reads back with the definition it was created with.
    expect(afterOne - before).toBe(1);
    expect(afterChange - before).toBe(2);
    expect((await store.getRun(first.runId))?.definition).toEqual(first.definition);
    expect((await store.getRun(`${s}.1`))?.definition).toEqual(first.definition);
    expect((await store.getRun(`${s}.2`))?.definition).toEqual(first.definition);
    expect((await store.getRun(changedRun.runId))?.definition).toEqual(changedRun.definition);
  });

  it('pauses and resumes a schedule, and reads a schedule never touched as an empty state', async () => {
    await store.setPaused(n('pausable'), true);
    const paused = await store.getScheduleState(n('pausable'));
    await store.setPaused(n('pausable'), false);
    expect(paused.paused).toBe(true);
    expect((await store.getScheduleState(n('pausable'))).paused).toBe(false);
    expect(await store.getScheduleState(n('untouched'))).toMatchObject({ schedule: n('untouched'), paused: false, version: 0 });
    expect((await store.getScheduleState(n('untouched'))).active).toBeUndefined();
  });

  it('makes a run the active one only while none is, and never while paused', async () => {
    // Prepare
    const s = n('skip-overlap');
    const first = aRun(s, '2025-05-01T00:00:00Z', `${s}.1`, 'start', 'skip');
    const second = aRun(s, '2025-05-01T01:00:00Z', `${s}.2`, 'start', 'skip');
    // Act
    const created = await store.createRunWithState(first, { kind: 'become-active' }, 3);
    const again = await store.createRunWithState(first, { kind: 'become-active' }, 3);
    const blocked = await store.createRunWithState(second, { kind: 'become-active' }, 3);
    // Assess
    expect([created, again, blocked]).toEqual(['created', 'run-exists', 'state-changed']);
    expect(await store.getRun(second.runId)).toBeUndefined();
    const state = await store.getScheduleState(s);
    expect([...(state.active ?? [])]).toEqual([first.runId]);
    expect(state.version).toBe(1);
    // Paused: the same change no longer applies, and nothing is created.
    const p = n('paused-overlap');
    await store.setPaused(p, true);
    expect(await store.createRunWithState(aRun(p, '2025-05-01T00:00:00Z', `${p}.1`, 'start', 'skip'), { kind: 'become-active' }, 3)).toBe('state-changed');
    expect(await store.getRun(`${p}.1`)).toBeUndefined();
  });

  it('queues one waiter behind an active run, and promotes it once the active run is released', async () => {
    // Prepare
    const s = n('queue-one');
    const active = aRun(s, '2025-05-01T00:00:00Z', `${s}.1`, 'start', 'queue-one');
    const waiter = aRun(s, '2025-05-01T01:00:00Z', `${s}.2`, 'hold', 'queue-one');
    const third = aRun(s, '2025-05-01T02:00:00Z', `${s}.3`, 'hold', 'queue-one');
    const lonely = n('queue-nothing-active');
    // Act / Assess
    expect(await store.createRunWithState(aRun(lonely, '2025-05-01T00:00:00Z', `${lonely}.1`, 'hold', 'queue-one'), { kind: 'queue' }, 3)).toBe('state-changed');
    expect(await store.createRunWithState(active, { kind: 'become-active' }, 3)).toBe('created');
    expect(await store.createRunWithState(waiter, { kind: 'queue' }, 3)).toBe('created');
    expect(await store.createRunWithState(third, { kind: 'queue' }, 3)).toBe('state-changed');
    expect(await store.promoteQueued(s, waiter.runId)).toBe(false); // the active run is still there
    const released = await store.releaseRun({ schedule: s, runId: active.runId, scheduledTime: active.scheduledTime, outcome: 'SUCCEEDED' });
    expect(released.state.active).toBeUndefined();
    expect(released.state.queued).toBe(waiter.runId);
    expect(await store.promoteQueued(s, waiter.runId)).toBe(true);
    expect(await store.promoteQueued(s, waiter.runId)).toBe(false);
    const state = await store.getScheduleState(s);
    expect([...(state.active ?? [])]).toEqual([waiter.runId]);
    expect(state.queued).toBeUndefined();
  });

  it('replaces the active runs only at the version it read (cancel-previous)', async () => {
    // Prepare
    const s = n('cancel-previous');
    const old = aRun(s, '2025-05-01T00:00:00Z', `${s}.1`, 'start', 'cancel-previous');
    const next = aRun(s, '2025-05-01T01:00:00Z', `${s}.2`, 'start', 'cancel-previous');
    const late = aRun(s, '2025-05-01T02:00:00Z', `${s}.3`, 'start', 'cancel-previous');
    // Act
    const first = await store.createRunWithState(old, { kind: 'replace-active', expectedVersion: 0 }, 3);
    const read = await store.getScheduleState(s);
    const second = await store.createRunWithState(next, { kind: 'replace-active', expectedVersion: read.version }, 3);
    const stale = await store.createRunWithState(late, { kind: 'replace-active', expectedVersion: read.version }, 3);
    // Assess
    expect([first, second, stale]).toEqual(['created', 'created', 'state-changed']);
    expect([...((await store.getScheduleState(s)).active ?? [])]).toEqual([next.runId]);
  });

  it('records each outcome once, reports the one before it, and lets a later-scheduled run keep the last word', async () => {
    // Prepare
    const s = n('outcomes');
    const release = (runId: string, hour: number, outcome: 'SUCCEEDED' | 'FAILED') =>
      store.releaseRun({ schedule: s, runId, scheduledTime: `2025-05-01T0${hour}:00:00Z`, outcome });
    // Act
    const first = await release(`${s}.1`, 1, 'FAILED');
    const second = await release(`${s}.2`, 2, 'SUCCEEDED');
    const again = await release(`${s}.2`, 2, 'SUCCEEDED');
    const earlier = await release(`${s}.0`, 0, 'FAILED');
    // Assess
    expect(first.previousOutcome).toBeUndefined();
    expect(first.state.lastOutcome).toBe('FAILED');
    expect(second.previousOutcome).toBe('FAILED');
    expect(again.previousOutcome).toBe('FAILED');
    expect(earlier.previousOutcome).toBeUndefined();
    expect(earlier.state).toMatchObject({ lastRunId: `${s}.2`, lastOutcome: 'SUCCEEDED', prevOutcome: 'FAILED' });
  });

  it('drops a finished waiter from the queue when it is released without being promoted', async () => {
    const s = n('dropped-waiter');
    const active = aRun(s, '2025-05-01T00:00:00Z', `${s}.1`, 'start', 'queue-one');
    const waiter = aRun(s, '2025-05-01T01:00:00Z', `${s}.2`, 'hold', 'queue-one');
    await store.createRunWithState(active, { kind: 'become-active' }, 3);
    await store.createRunWithState(waiter, { kind: 'queue' }, 3);
    const released = await store.releaseRun({ schedule: s, runId: waiter.runId, scheduledTime: waiter.scheduledTime, outcome: 'CANCELLED' });
    expect(released.state.queued).toBeUndefined();
    expect([...(released.state.active ?? [])]).toEqual([active.runId]);
  });

  it('spaces SubmitJob slots 1/rate apart while busy, and hands out `now` again once idle', async () => {
    // The pacer is one item per table: start well after anything another case reserved.
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    const slots = [];
    for (let i = 0; i < 4; i++) slots.push(await store.reserveSubmitSlot(50, t0));
    const idle = await store.reserveSubmitSlot(50, t0 + 60_000);
    expect(slots).toEqual([t0, t0 + 20, t0 + 40, t0 + 60]);
    expect(idle).toBe(t0 + 60_000);
  });
});

const windowStores: [string, () => WindowStore][] = [
  ['DynamoDB', () => dynamoWindowStore({ doc: ddb.doc, table })],
  ['in-memory', () => memoryWindowStore()],
];

describe.each(windowStores)('the %s window store', (kind, make) => {
  // The table is shared with the run store's cases: schedule names carry the kind.
  const n = (name: string) => `win-${name}-${kind === 'DynamoDB' ? 'd' : 'm'}`;
  const def = definition('w', [task('main')]);
  const settings = { parameters: { key: '$.detail.key' }, idempotencyKey: '$.id', batchWindow: { seconds: 60, maxEvents: 2 } };
  const head = (closesAt: number) => ({ closesAt, definition: def, settings, expiresAt: Math.floor(closesAt / 1000) + 86_400 });
  const event = (key: string) => ({ key, value: `value-of-${key}`, expiresAt: 2_000_000_000 });
  let store: WindowStore;
  beforeAll(() => {
    store = make();
  });

  it('counts arrivals on an open window, and none once it is closed', async () => {
    // Prepare
    const w: WindowRef = { schedule: n('count'), trigger: 0, window: 1 };
    // Act
    const first = await store.countArrival(w, head(1_000_000));
    const second = await store.countArrival(w, head(9_999_999));
    const closed = await store.closeHead(w);
    const late = await store.countArrival(w, head(1_000_000));
    // Assess
    expect([first, second, late]).toEqual([1, 2, 'closed']);
    // The head keeps what its first arrival gave it.
    expect({ n: closed?.n, closesAt: closed?.closesAt, closed: closed?.closed, definition: closed?.definition, settings: closed?.settings }).toEqual({
      n: 2,
      closesAt: 1_000_000,
      closed: true,
      definition: def,
      settings,
    });
  });

  it('adds an event once per key, and nothing to a closed part or window', async () => {
    // Prepare
    const w: WindowRef = { schedule: n('add'), trigger: 1, window: 7 };
    await store.countArrival(w, head(2_000_000));
    // Act
    const added = await store.addToPart(w, 0, event('a'));
    const again = await store.addToPart(w, 0, event('a'));
    const elsewhere = await store.addToPart(w, 1, event('a'));
    const second = await store.addToPart(w, 0, event('b'));
    const values = await store.closePart(w, 0);
    const toClosedPart = await store.addToPart(w, 0, event('c'));
    await store.closeHead(w);
    const toClosedWindow = await store.addToPart(w, 1, event('d'));
    // Assess
    expect([added, again, elsewhere, second]).toEqual(['added', 'duplicate', 'duplicate', 'added']);
    expect(values).toEqual(['value-of-a', 'value-of-b']);
    expect([toClosedPart, toClosedWindow]).toEqual(['closed', 'closed']);
  });

  it('keeps keys apart per schedule and trigger', async () => {
    // Prepare
    const a: WindowRef = { schedule: n('keys'), trigger: 0, window: 1 };
    const b: WindowRef = { schedule: n('keys'), trigger: 1, window: 1 };
    const c: WindowRef = { schedule: n('keys-other'), trigger: 0, window: 1 };
    // Act
    const results = [await store.addToPart(a, 0, event('k')), await store.addToPart(b, 0, event('k')), await store.addToPart(c, 0, event('k'))];
    // Assess
    expect(results).toEqual(['added', 'added', 'added']);
  });

  it('closes parts and heads idempotently, and says when there is nothing to close', async () => {
    // Prepare
    const w: WindowRef = { schedule: n('idem'), trigger: 0, window: 3 };
    await store.countArrival(w, head(3_000_000));
    await store.addToPart(w, 0, event('x'));
    // Act
    const part = [await store.closePart(w, 0), await store.closePart(w, 0), await store.closePart(w, 5)];
    const heads = [await store.closeHead(w), await store.closeHead(w), await store.closeHead({ ...w, window: 4 })];
    // Assess
    expect(part).toEqual([['value-of-x'], ['value-of-x'], undefined]);
    expect(heads.map((h) => h && { n: h.n, closed: h.closed })).toEqual([{ n: 1, closed: true }, { n: 1, closed: true }, undefined]);
  });

  it('lists overdue windows by end, closed ones too, until they are retired', async () => {
    // Prepare
    const s = n('overdue');
    const early: WindowRef = { schedule: s, trigger: 0, window: 10 };
    const late: WindowRef = { schedule: s, trigger: 0, window: 11 };
    const future: WindowRef = { schedule: s, trigger: 1, window: 12 };
    await store.countArrival(late, head(5_000_200));
    await store.countArrival(early, head(5_000_100));
    await store.countArrival(future, head(5_999_999));
    await store.closeHead(early);
    const mine = async () => (await store.listOverdueWindows(5_500_000)).filter((w) => w.schedule === s);
    // Act
    const before = await mine();
    await store.retireWindow(early);
    const after = await mine();
    // Assess
    expect(before).toEqual([early, late]);
    expect(after).toEqual([late]);
  });
});

describe('the DynamoDB store alone', () => {
  // Only items written around the store can be malformed; the in-memory store holds what it parsed.
  it('reports an item that no longer matches its schema instead of returning it', async () => {
    await ddb.doc.send(new PutCommand({ TableName: table, Item: { pk: 'RUN#broken', sk: 'RUN', kind: 'run', status: 'EXPLODED' } }));
    await expect(dynamoStore({ doc: ddb.doc, table }).getRun('broken')).rejects.toBeInstanceOf(CorruptItemError);
  });

  /** A store over DynamoDB Local that logs each request (`<Command> <pk>/<sk>`), with a container cache of its own. */
  function loggingStore(log: string[], cache = new DefinitionCache()): Store {
    const doc = {
      send: (command: { constructor: { name: string }; input: Record<string, any> }) => {
        const key = command.input.Key ?? command.input.Item ?? {};
        log.push(`${command.constructor.name.replace('Command', '')} ${key.pk}/${key.sk}`);
        return ddb.doc.send(command as never);
      },
    };
    return dynamoStore({ doc: doc as unknown as DynamoDBDocumentClient, table, definitions: cache });
  }

  it('writes a definition once: a warm container asks nothing for the next run of it, a cold one reads it and writes none', async () => {
    // Prepare: one container's store, and another's (cold: a cache of its own).
    const log: string[] = [];
    const warm = loggingStore(log);
    const first = aRun('def-once', '2025-05-01T00:00:00Z', 'def-once.0');
    const h = definitionHash(first.definition);
    // Act
    await warm.putNewRun(first, 3);
    const firstRun = log.splice(0);
    await warm.putNewRun(aRun('def-once', '2025-05-01T01:00:00Z', 'def-once.1'), 3);
    const secondRun = log.splice(0);
    await loggingStore(log).putNewRun(aRun('def-once', '2025-05-01T02:00:00Z', 'def-once.2'), 3);
    const coldRun = log.splice(0);
    const coldRead = await loggingStore(log).getRun('def-once.1');
    const coldReads = log.splice(0);
    const warmRead = await warm.getRun('def-once.2');
    const warmReads = log.splice(0);
    // Assess: the definition item first, then the run; the run item names it by hash and holds no definition.
    expect(firstRun).toEqual([`Get DEF#${h}/DEF`, `Put DEF#${h}/DEF`, 'Put RUN#def-once.0/RUN']);
    expect(secondRun).toEqual(['Put RUN#def-once.1/RUN']);
    expect(coldRun).toEqual([`Get DEF#${h}/DEF`, 'Put RUN#def-once.2/RUN']);
    expect(coldReads).toEqual(['Get RUN#def-once.1/RUN', `Get DEF#${h}/DEF`]);
    expect(warmReads).toEqual(['Get RUN#def-once.2/RUN']);
    expect(coldRead?.definition).toEqual(first.definition);
    expect(warmRead?.definition).toEqual(first.definition);
    const item = (await ddb.doc.send(new GetCommand({ TableName: table, Key: { pk: `DEF#${h}`, sk: 'DEF' } }))).Item;
    expect(item?.definition).toEqual(first.definition);
    expect(item?.expiresAt).toBe(Math.floor(ctx.now / 1000) + (3 + 90) * 86_400);
    const runItem = (await ddb.doc.send(new GetCommand({ TableName: table, Key: { pk: 'RUN#def-once.0', sk: 'RUN' } }))).Item;
    expect(runItem?.D).toBe(h);
    expect(runItem).not.toHaveProperty('definition');
    expect(h).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps a definition alive as long as a run may need it: extended when a later run or a run’s TTL reaches past its margin', async () => {
    // Prepare: a definition written at T with 3 days of retention lives until T + 93 days.
    const T = Math.floor(ctx.now / 1000);
    const day = 86_400;
    const at = (days: number) => ({ ...ctx, now: ctx.now + days * day * 1000 });
    const runAt = (days: number, id: string) => newRun(fire(definition('def-ttl', [task('main')]), '2025-05-01T00:00:00Z'), { runId: id, mode: 'start' }, at(days)).run;
    const expiry = async (h: string) => (await ddb.doc.send(new GetCommand({ TableName: table, Key: { pk: `DEF#${h}`, sk: 'DEF' } }))).Item?.expiresAt;
    const first = runAt(0, 'def-ttl.0');
    const h = definitionHash(first.definition);
    await loggingStore([]).putNewRun(first, 3);
    const log: string[] = [];
    const other = loggingStore(log);
    // Act: a run 70 days later needs it until T + 70 + 3 + 30 days: extended; one a day after that: nothing to do.
    await other.putNewRun(runAt(70, 'def-ttl.70'), 3);
    const extendedAt70 = await expiry(h);
    const requests70 = log.splice(0);
    const run71 = runAt(71, 'def-ttl.71');
    await other.putNewRun(run71, 3);
    const requests71 = log.splice(0);
    // A run finalized with a TTL far out (a re-run months later): extended before the run is written.
    await other.saveRun({ ...run71, expiresAt: T + 200 * day });
    const requestsFinal = log.splice(0);
    // Assess
    expect(extendedAt70).toBe(T + (70 + 3 + 30 + 60) * day);
    expect(requests70).toEqual([`Get DEF#${h}/DEF`, `Update DEF#${h}/DEF`, 'Put RUN#def-ttl.70/RUN']);
    expect(requests71).toEqual(['Put RUN#def-ttl.71/RUN']);
    expect(requestsFinal).toEqual([`Update DEF#${h}/DEF`, 'Put RUN#def-ttl.71/RUN']);
    expect(await expiry(h)).toBe(T + (200 + 30 + 60) * day);
  });

  it('reads a run stored by an earlier version, with its definition in an item of its own, and keeps it readable through its saves', async () => {
    // Prepare: the two items an earlier version wrote for a run, raw: the state (short names, no
    // definition hash) and `RUN#<id>/DEF`.
    const run = aRun('def-legacy', '2025-05-01T00:00:00Z', 'def-legacy.1');
    const { definition: legacyDefinition, ...state } = run;
    await ddb.doc.send(new PutCommand({ TableName: table, Item: encodeRun(state) }));
    await ddb.doc.send(
      new PutCommand({
        TableName: table,
        Item: { pk: 'RUN#def-legacy.1', sk: 'DEF', kind: 'run-definition', runId: run.runId, definition: legacyDefinition, expiresAt: Math.floor(ctx.now / 1000) + 93 * 86_400 },
      }),
    );
    const store = loggingStore([]);
    // Act
    const read = await store.getRun(run.runId);
    const running = await store.saveRun({ ...read!, status: 'RUNNING' });
    const afterSave = await loggingStore([]).getRun(run.runId);
    await store.saveRun({ ...running, status: 'SUCCEEDED', finalized: true, expiresAt: Math.floor(ctx.now / 1000) + 3 * 86_400 });
    const afterFinalize = await loggingStore([]).getRun(run.runId);
    // Assess
    expect(read).toEqual(run);
    expect(afterSave?.status).toBe('RUNNING');
    expect(afterSave?.definition).toEqual(run.definition);
    expect(afterFinalize?.status).toBe('SUCCEEDED');
    expect(afterFinalize?.definition).toEqual(run.definition);
    await expect(loggingStore([]).getRun('def-legacy.missing')).resolves.toBeUndefined();
  });

  it('reports a run whose definition is nowhere instead of returning it without one', async () => {
    const run = aRun('def-lost', '2025-05-01T00:00:00Z', 'def-lost.1');
    const { definition: _definition, ...state } = run;
    await ddb.doc.send(new PutCommand({ TableName: table, Item: { ...encodeRun(state), D: '0'.repeat(32) } }));
    await expect(loggingStore([]).getRun(run.runId)).rejects.toBeInstanceOf(CorruptItemError);
  });

  it('writes a run’s status changes to the table only, not to the by-schedule index', async () => {
    // Prepare: a client that reports what each write consumed, per index.
    const counted = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const indexWrites: Record<string, number>[] = [];
    counted.middlewareStack.add(
      (next) => async (args) => {
        (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'INDEXES';
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: { GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }> } }).ConsumedCapacity;
        indexWrites.push(Object.fromEntries(Object.entries(consumed?.GlobalSecondaryIndexes ?? {}).map(([k, v]) => [k, v.CapacityUnits ?? 0])));
        return out;
      },
      { step: 'initialize', name: 'countIndexWrites' },
    );
    const store = dynamoStore({ doc: DynamoDBDocumentClient.from(counted, { marshallOptions: { removeUndefinedValues: true } }), table });
    const run = aRun('index-writes', '2025-05-01T00:00:00Z', 'index-writes.1');
    await store.putNewRun(run, 3);
    indexWrites.length = 0;
    // Act
    const running = await store.saveRun({ ...run, status: 'RUNNING' });
    await store.saveRun({ ...running, status: 'SUCCEEDED', statusReason: 'done', endedAt: '2025-05-01T00:05:00.000Z' });
    // Assess
    expect(indexWrites).toEqual([{}, {}]);
    counted.destroy();
  });
});
