/**
 * The deployment's SubmitJob pacer: one item holding `tat`, the earliest time (epoch ms) the
 * next SubmitJob may be made so that the deployment stays under `rate` calls per second
 * (the generic cell rate algorithm: each reservation takes the slot at max(tat, now) and
 * pushes `tat` one interval further). Thousands of invocations woken by the same minute
 * reserve distinct slots spaced 1/rate apart with single-item atomic writes and no read, so
 * the spike is spread before it reaches Batch instead of being thrown back as
 * TooManyRequestsException.
 *
 * Two forms, each a conditional write that fails when the other one applies:
 * - idle (tat absent or before now): `SET tat = now + interval` if still idle → slot = now;
 * - busy: `ADD tat interval` if tat is at or after now → slot = the new tat − interval.
 * An idle pacer (the normal case: a run now and then) costs one write per submission; a busy
 * one (a spike) two, the first a failed conditional write, unless this container already knows
 * it is busy: a `tat` it was answered is a time before which the pacer cannot be idle (`tat`
 * only grows until it has passed), so until then the busy form goes first and a spike costs
 * one write per submission. That knowledge only orders the two forms; the slot always comes
 * from the item. One item takes up to 1,000 writes/s, far above Batch's SubmitJob quota of 50/s.
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
  // Busy for certain until the last `tat` this container was answered for this table.
  let busyFirst = now < (busyUntil.get(deps.table) ?? 0);
  for (let i = 0; i < 5; i++) {
    if (!busyFirst) {
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
        remember(deps.table, now + interval);
        return now;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    busyFirst = false;
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
      const tat = Number(out.Attributes?.tat);
      remember(deps.table, tat);
      // Rounded up: a slot never falls into the second before the one it was spaced into.
      return Math.ceil(tat - interval);
    } catch (error) {
      // Went idle between the two writes (the last slot passed): the first form applies again.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  // Flipping five times in a row means the pacer sits exactly on `now`: the slot is now.
  return now;
}

/** Per table, the latest `tat` this container was answered: the pacer is busy until then. */
const busyUntil = new Map<string, number>();

function remember(table: string, tat: number): void {
  if (tat > (busyUntil.get(table) ?? 0)) busyUntil.set(table, tat);
}
