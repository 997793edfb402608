import { describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { engineHandler } from '#shared/engine/handler';
import { NonRetryableError, RetryableError, VersionConflictError, isRetryable } from '#shared/errors';

const context = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 1000 } as unknown as Context;
const Input = z.object({ n: z.number() });

describe('engine handler semantics', () => {
  it('validates a direct invoke like a real event and answers invalid input without throwing (no retry)', async () => {
    // Prepare
    let called = false;
    const handler = engineHandler('t', Input, async () => {
      called = true;
      return 'ok';
    });
    // Act
    const result = await handler({ n: 'one' }, context);
    // Assess
    expect(called).toBe(false);
    expect(result).toMatchObject({ ok: false, error: 'ValidationError' });
    expect((result as { message: string }).message).toContain('n:');
  });

  it('rethrows a retryable error so Lambda retries the event', async () => {
    const handler = engineHandler('t', Input, async () => {
      throw new RetryableError('SubmitJob throttled');
    });
    await expect(handler({ n: 1 }, context)).rejects.toBeInstanceOf(RetryableError);
  });

  it('records and swallows an error that can never succeed', async () => {
    const handler = engineHandler('t', Input, async () => {
      throw new NonRetryableError('bad definition');
    });
    await expect(handler({ n: 1 }, context)).resolves.toMatchObject({ ok: false, error: 'NonRetryableError' });
  });

  it('passes the parsed input to the domain', async () => {
    const handler = engineHandler('t', Input, async (input) => input.n * 2);
    await expect(handler({ n: 21, extra: true }, context)).resolves.toBe(42);
  });

  it('treats unknown errors as retryable and keeps names and causes', () => {
    const cause = new Error('conditional check failed');
    const error = new VersionConflictError('run x changed', { cause });
    expect(error.name).toBe('VersionConflictError');
    expect(error.cause).toBe(cause);
    expect(isRetryable(error)).toBe(true);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable(new NonRetryableError('no'))).toBe(false);
  });
});
