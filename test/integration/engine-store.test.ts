/** The run store against DynamoDB Local: listings page newest first with an opaque cursor; reads parse, never cast. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { newRun, type TransitionContext } from '#shared/engine/run-state';
import { CorruptItemError, ValidationError } from '#shared/errors';
import { getRun, listActiveRunIds, listRunsBySchedule, putNewRun, RunVersionConflictError, saveRun, type StoreDeps } from '#shared/store/runs';
import { getScheduleState, setPaused } from '#shared/store/schedules';
import { VersionConflictError } from '#shared/errors';
import { createEngineTable, definition, fire, task } from '#test/helpers/engine';

let client: DynamoDBClient;
let store: StoreDeps;
const ctx: TransitionContext = { now: Date.parse('2025-05-01T00:00:00Z'), owner: 'o', leaseMs: 60_000, deployment: 'd', retentionDays: 3 };

beforeAll(async () => {
  client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  store = { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), table: `engine-store-${process.pid}` };
  await createEngineTable(client, store.table);
});

afterAll(() => client?.destroy());

describe('run store', () => {
  it('lists a schedule’s runs newest first, page by page, with an opaque cursor', async () => {
    // Prepare
    const def = definition('listed', [task('main')]);
    for (let h = 0; h < 5; h++) {
      const time = `2025-05-01T0${h}:00:00Z`;
      await putNewRun(store, newRun(fire(def, time), { runId: `listed.2025050${1}T0${h}0000Z`, mode: 'start' }, ctx).run);
    }
    // Act
    const first = await listRunsBySchedule(store, 'listed', { limit: 2 });
    const second = await listRunsBySchedule(store, 'listed', { limit: 2, cursor: first.cursor });
    const third = await listRunsBySchedule(store, 'listed', { limit: 2, cursor: second.cursor });
    // Assess
    expect([...first.items, ...second.items, ...third.items].map((r) => r.scheduledTime.slice(11, 13))).toEqual(['04', '03', '02', '01', '00']);
    expect(first.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(third.items).toHaveLength(1);
    expect(third.cursor).toBeUndefined();
    await expect(listRunsBySchedule(store, 'listed', { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('creates a run once and refuses a write over a version it did not read', async () => {
    // Prepare
    const run = newRun(fire(definition('once', [task('main')]), '2025-05-01T00:00:00Z'), { runId: 'once.1', mode: 'start' }, ctx).run;
    // Act
    const created = await putNewRun(store, run);
    const duplicate = await putNewRun(store, run);
    const saved = await saveRun(store, { ...run, statusReason: 'first writer' });
    // Assess
    expect(created).toBe(true);
    expect(duplicate).toBe(false);
    expect(saved.version).toBe(1);
    await expect(saveRun(store, { ...run, statusReason: 'stale writer' })).rejects.toBeInstanceOf(VersionConflictError);
    expect((await getRun(store, 'once.1'))?.statusReason).toBe('first writer');
  });

  it('hands a writer that lost a version race the run as it stands, so it need not read again', async () => {
    // Prepare
    const run = newRun(fire(definition('raced', [task('main')]), '2025-05-01T00:00:00Z'), { runId: 'raced.1', mode: 'start' }, ctx).run;
    await putNewRun(store, run);
    await saveRun(store, { ...run, statusReason: 'winner' });
    // Act
    const lost = await saveRun(store, { ...run, statusReason: 'loser' }).catch((error: unknown) => error);
    // Assess
    expect(lost).toBeInstanceOf(RunVersionConflictError);
    expect((lost as RunVersionConflictError).current).toEqual(await getRun(store, 'raced.1'));
    expect((lost as RunVersionConflictError).current?.statusReason).toBe('winner');
  });

  it('finds unfinished runs through the sharded active index only', async () => {
    // Prepare
    const def = definition('active', [task('main')]);
    const live = newRun(fire(def, '2025-05-01T00:00:00Z'), { runId: 'active.live', mode: 'start' }, ctx).run;
    const skipped = newRun(fire(def, '2025-05-01T01:00:00Z'), { runId: 'active.skipped', mode: 'skip', reason: 'x' }, ctx).run;
    await putNewRun(store, live);
    await putNewRun(store, skipped);
    // Act
    const ids = await listActiveRunIds(store);
    // Assess
    expect(ids).toContain('active.live');
    expect(ids).not.toContain('active.skipped');
    expect(skipped.expiresAt).toBe(Math.floor(ctx.now / 1000) + 3 * 86_400);
  });

  it('reports an item that no longer matches its schema instead of returning it', async () => {
    await store.doc.send(new PutCommand({ TableName: store.table, Item: { pk: 'RUN#broken', sk: 'RUN', kind: 'run', status: 'EXPLODED' } }));
    await expect(getRun(store, 'broken')).rejects.toBeInstanceOf(CorruptItemError);
  });

  it('pauses and resumes a schedule', async () => {
    await setPaused(store, 'pausable', true);
    const paused = await getScheduleState(store, 'pausable');
    await setPaused(store, 'pausable', false);
    expect(paused.paused).toBe(true);
    expect((await getScheduleState(store, 'pausable')).paused).toBe(false);
  });
});
