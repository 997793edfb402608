/**
 * Two writers of one run at once (a job's RUNNING and SUCCEEDED events, two tasks finishing
 * together): the loser's write fails its version condition and gets the stored run back, so
 * it re-applies its change to that run without reading again, and nothing either writer did
 * is lost. Real DynamoDB Local through the engine's own store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextOf } from '#shared/engine/deps';
import { mutateRun } from '#shared/engine/drive';
import { newRun } from '#shared/engine/run-state';
import { recordCommands } from '#test/helpers/aws';
import { definition, fire, task, startEngineStack, type EngineStack } from '#test/helpers/engine';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
});

afterAll(async () => {
  await engine?.stop();
});

describe('version conflicts', () => {
  it('re-applies a lost write to the run the failed write returned, without reading it again, and keeps both changes', async () => {
    // Prepare: a run read by this writer, then changed by another one.
    const deps = engine.deps('loser');
    const ctx = contextOf(deps);
    const stale = newRun(fire(definition('raced', [task('main')]), '2025-05-01T00:00:00Z'), { runId: 'raced.20250501T000000Z', mode: 'start' }, ctx).run;
    await deps.store.putNewRun(stale, 7);
    await deps.store.saveRun({ ...stale, statusReason: 'the other writer was here' });
    const recorded = recordCommands(engine.doc);
    // Act: write over the stale version.
    let applied = 0;
    const m = await mutateRun(
      deps,
      stale.runId,
      (run) => {
        applied += 1;
        return { run: { ...run, supersedes: ['an.older.run'] }, claims: [], retries: [] };
      },
      undefined,
      stale,
    ).finally(() => recorded.stop());
    // Assess
    expect(m.changed).toBe(true);
    expect(applied).toBe(2);
    expect(recorded.commands).toEqual(['PutItemCommand', 'PutItemCommand']);
    const stored = await engine.run(stale.runId);
    expect(stored?.statusReason).toBe('the other writer was here');
    expect(stored?.supersedes).toEqual(['an.older.run']);
    expect(stored?.version).toBe(2);
  });
});
