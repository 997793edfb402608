/**
 * Conditional writes: every store method that writes only if a condition holds (an item
 * absent, a version unchanged, a part still open) reads the same answer from DynamoDB, a
 * ConditionalCheckFailedException. This turns it into `undefined`; any other error is thrown.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** The write's answer, or `undefined` when its condition did not hold. */
export async function unlessConditionFails<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}
