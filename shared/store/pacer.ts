/**
 * The deployment's SubmitJob pacer: one item holding `tat`, the earliest time (epoch ms) the
 * next SubmitJob may be made so that the deployment stays under `rate` calls per second
 * (the generic cell rate algorithm: each reservation takes the slot at max(tat, now) and
 * pushes `tat` one interval further). Thousands of invocations woken by the same minute
 * reserve distinct slots spaced 1/rate apart with single-item atomic writes and no read, so
 * the spike is spread before it reaches Batch instead of being thrown back as
 * TooManyRequestsException.
 *
 * Two forms, tried in this order (so the steps an invocation makes depend only on the
 * pacer's state, never on the invocation's history):
 * - idle (tat absent or before now): `SET tat = now + interval` if still idle → slot = now;
 * - busy: `ADD tat interval` if tat is at or after now → slot = the new tat − interval.
 * An idle pacer (the normal case: a run now and then) costs one write per submission; a busy
 * one (a spike) two, the first a failed conditional write. One item takes up to 1,000
 * writes/s, far above Batch's SubmitJob quota of 50/s.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { pacerKey } from './keys.ts';
import type { StoreDeps } from './runs.ts';

const NAMES = { '#tat': 'tat', '#kind': 'kind' };

/**
 * Reserves the next SubmitJob slot at `rate` calls per second; returns its time (epoch ms,
 * `now` or later). The caller waits until then, or hands the slot over when it cannot.
 */
export async function reserveSubmitSlot(deps: StoreDeps, rate: number, now: number): Promise<number> {
  const interval = 1000 / rate;
  for (let i = 0; i < 5; i++) {
    try {
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.table,
          Key: pacerKey,
          UpdateExpression: 'SET #tat = :next, #kind = :kind',
          ConditionExpression: 'attribute_not_exists(#tat) OR #tat < :now',
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: { ':next': now + interval, ':now': now, ':kind': 'pacer' },
        }),
      );
      return now;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    try {
      const out = await deps.doc.send(
        new UpdateCommand({
          TableName: deps.table,
          Key: pacerKey,
          UpdateExpression: 'ADD #tat :interval',
          ConditionExpression: '#tat >= :now',
          ExpressionAttributeNames: { '#tat': 'tat' },
          ExpressionAttributeValues: { ':interval': interval, ':now': now },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      // Rounded up: a slot never falls into the second before the one it was spaced into.
      return Math.ceil(Number(out.Attributes?.tat) - interval);
    } catch (error) {
      // Went idle between the two writes (the last slot passed): the first form applies again.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  // Flipping five times in a row means the pacer sits exactly on `now`: the slot is now.
  return now;
}
