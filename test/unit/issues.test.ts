/**
 * One wording for one problem: the API's 400 issues (validateRequest) and the config's
 * problems (parseConfig, the CLI's `validate`) describe the same zod issue in the same words,
 * each naming the field, what was wrong and what is allowed.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { validateRequest, type ApiEvent } from '#shared/api/http';
import { ScheduleSchema } from '#shared/config/schema';
import { parseConfig } from '#shared/config/validate';
import { ConfigError, ValidationError } from '#shared/errors';

/** The issues the API middleware reports for `body` parsed as a schedule. */
function apiIssues(body: unknown): { path: string; message: string }[] {
  const event = { body: JSON.stringify(body), headers: {}, queryStringParameters: {}, pathParameters: {} } as unknown as ApiEvent;
  try {
    (validateRequest({ body: ScheduleSchema }).before as (r: { event: APIGatewayProxyEventV2 }) => void)({ event });
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  return [];
}

/** The issues parseConfig reports for `schedule` declared as `schedules.x`. */
function configIssues(schedule: unknown): { path: string; message: string }[] {
  try {
    parseConfig({ schedules: { x: schedule } });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

const job = { definition: 'etl' };

describe('one wording for API and config problems', () => {
  it.each([
    ['a wrong type, naming the value given', { expression: 5, job }, 'expression', 'must be a string (got number 5)'],
    ['a value outside an enum, listing the allowed ones', { expression: 'rate(1 hour)', job, overlap: 'never' }, 'overlap', 'must be one of "allow", "skip", "queue-one", "cancel-previous" (got "never")'],
    ['an unknown field, with the nearest allowed one', { expression: 'rate(1 hour)', job, timezon: 'UTC' }, '', 'unknown field "timezon" (did you mean "timezone"?'],
    ['a length limit, giving the length and not the value', { expression: 'rate(1 hour)', job, description: 'd'.repeat(600) }, 'description', 'must be at most 512 characters (got 600)'],
    ['a required field inside a task', { expression: 'rate(1 hour)', job: {} }, 'job.definition', 'is required (a string)'],
  ])('%s', (_, schedule, field, message) => {
    const api = apiIssues(schedule).find((i) => i.path === (field ? `body.${field}` : 'body'));
    const config = configIssues(schedule).find((i) => i.path === (field ? `schedules.x.${field}` : 'schedules.x'));
    expect(api?.message, JSON.stringify(apiIssues(schedule))).toContain(message);
    expect(config?.message, JSON.stringify(configIssues(schedule))).toBe(api?.message);
  });
});
