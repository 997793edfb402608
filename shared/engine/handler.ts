/**
 * What every engine Lambda shares: validation of the input in middleware (a direct invoke
 * is validated exactly like the real event), retry semantics in the error path (a
 * RetryableError is rethrown so Lambda's async retry re-drives; anything that can never
 * succeed is logged and swallowed, since retrying it only burns invocations), and metrics
 * flushed after each invocation.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from '../zod.ts';
import { isRetryable, ValidationError } from '../errors.ts';
import { issueLine, plainWords, zodIssues } from '../issues.ts';
import { logger, metrics } from '../logger.ts';

/** The result a handler returns when its input was rejected or its error is not retryable. */
export interface Rejected {
  ok: false;
  error: string;
  message: string;
}

/**
 * Wraps `fn` as a middy handler that parses its event with `schema` first. Invalid input is
 * logged and answered with `{ ok: false }` (not thrown: it can never succeed).
 */
export function engineHandler<S extends z.core.$ZodType, R>(
  name: string,
  schema: S,
  fn: (input: z.infer<S>, context: Context) => Promise<R>,
) {
  return middy<unknown, R | Rejected, Error, Context>()
    .use({
      name: 'zod-input',
      before: (request) => {
        logger.addContext(request.context);
        const parsed = z.safeParse(schema, request.event, { error: plainWords });
        if (!parsed.success) {
          // The same wording as API and config problems; no value is echoed into the log beyond a
          // wrong-typed scalar (`input` is not passed).
          const issues = zodIssues(parsed.error, { root: 'input', prefixed: false, schema, input: undefined });
          throw new ValidationError(`${name}: invalid input: ${issues.map(issueLine).join('; ')}`, issues);
        }
        request.event = parsed.data;
      },
    })
    .use({
      name: 'retry-semantics',
      onError: (request) => {
        const error = request.error;
        if (error && isRetryable(error)) {
          logger.warn(`${name}: failed; Lambda will retry`, { error: error.name, detail: error.message });
          return;
        }
        logger.error(`${name}: rejected; not retried`, { error: error?.name, detail: error?.message });
        request.response = { ok: false, error: error?.name ?? 'Error', message: error?.message ?? '' };
        request.error = null;
        return request.response;
      },
    })
    .use({
      name: 'metrics',
      // Block bodies: a value returned from a middy middleware would become the response.
      after: () => {
        if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      },
      onError: () => {
        if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      },
    })
    .handler(async (event, context) => fn(event as z.infer<S>, context));
}
