/**
 * Request checks and ids. Batch answers every bad input and every unknown resource
 * with `ClientException` (HTTP 400), so that is the one error the helpers raise.
 * Ids are UUID-shaped like AWS's but derived from a persisted counter and the clock,
 * so a run is repeatable and a restart never reuses one.
 */
import { createHash } from 'node:crypto';
import { AwsError } from '#local/contracts';

/** A ClientException with `message`, the error Batch uses for bad input and unknown resources. */
export function clientError(message: string): AwsError {
  return new AwsError('ClientException', message, 400);
}

type Body = Record<string, unknown>;

/** A required string member. */
export function requireString(body: Body, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v.length === 0) throw clientError(`${key} is required and must be a non-empty string.`);
  return v;
}

export function optionalString(body: Body, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw clientError(`${key} must be a string.`);
  return v;
}

export function optionalNumber(body: Body, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw clientError(`${key} must be a number.`);
  return v;
}

export function optionalStringList(body: Body, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw clientError(`${key} must be a list of strings.`);
  return v as string[];
}

export function optionalStringMap(body: Body, key: string): Record<string, string> | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw clientError(`${key} must be a map of strings to strings.`);
  }
  return { ...(v as Record<string, string>) };
}

const RESOURCE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Compute environment, job queue and job definition names: up to 128 letters, digits, `-` and `_`. */
export function checkResourceName(kind: string, name: string): void {
  if (!RESOURCE_NAME.test(name)) {
    throw clientError(
      `${kind} name '${name}' is invalid: it can be up to 128 characters long and contain only letters, numbers, hyphens (-) and underscores (_).`,
    );
  }
}

/** Job names: up to 128 characters, first one alphanumeric, then letters, digits, `-` and `_`. */
export function checkJobName(name: string): void {
  if (!JOB_NAME.test(name)) {
    throw clientError(
      `Job name '${name}' is invalid: it must start with a letter or number, be at most 128 characters long and contain only letters, numbers, hyphens (-) and underscores (_).`,
    );
  }
}

/** A UUID-shaped id, stable for a given seed string. */
export function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  // Version 4 and variant bits set so tools that validate UUIDs accept it.
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A 32-hex-digit id, the shape of ECS task ids (which Batch uses in log stream names). */
export function hexFrom(seed: string, length = 32): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

/** Paging over an in-memory list with an opaque `nextToken` (a base64 offset). */
export function page<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined): { items: T[]; nextToken?: string } {
  let start = 0;
  if (nextToken) {
    start = Number.parseInt(Buffer.from(nextToken, 'base64').toString('utf8'), 10);
    if (!Number.isInteger(start) || start < 0) throw clientError('nextToken is invalid.');
  }
  const size = maxResults && maxResults > 0 ? Math.min(maxResults, 1000) : 100;
  const slice = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(String(start + size)).toString('base64') : undefined;
  return next ? { items: slice, nextToken: next } : { items: slice };
}

/** Batch's tag limits ("Tagging your AWS Batch resources", Tag restrictions). */
export const TAG_LIMITS = { count: 50, keyLength: 128, valueLength: 256 } as const;

/** Refuses a tag set over Batch's limits (count, key and value lengths, the reserved `aws:` prefix). */
export function checkTagCount(tags: Record<string, string>, key: string): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > TAG_LIMITS.count) {
    throw clientError(`${key}: a resource can have at most ${TAG_LIMITS.count} tags; this request would give it ${entries.length}.`);
  }
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > TAG_LIMITS.keyLength) throw clientError(`${key}: tag key '${k}' must be 1 to ${TAG_LIMITS.keyLength} characters long.`);
    if (v.length > TAG_LIMITS.valueLength) throw clientError(`${key}: the value of tag '${k}' must be at most ${TAG_LIMITS.valueLength} characters long.`);
    if (k.toLowerCase().startsWith('aws:')) throw clientError(`${key}: tag key '${k}' uses the prefix aws:, which is reserved for AWS use.`);
  }
  return tags;
}

/** An optional `tags` map, within Batch's tag limits. */
export function optionalTags(body: Body, key: string): Record<string, string> | undefined {
  const tags = optionalStringMap(body, key);
  return tags ? checkTagCount(tags, key) : undefined;
}
