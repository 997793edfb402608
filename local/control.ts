/**
 * The stack's control API, under `/_batchron/` on the AWS endpoint (JSON in and out, no
 * signature), for tests, benchmarks and people poking at a running `batchron local`.
 * Every request carries `Authorization: Bearer <token>` (the token of `.batchron/api-token`,
 * the same as the HTTP API's) and every POST `Content-Type: application/json`, so no web
 * page can send one as a cross-site "simple" request (text/plain, a form post):
 *
 *   GET  /_batchron/health
 *   GET  /_batchron/clock                      -> { now, epochMs }
 *   POST /_batchron/clock                      { set: ISO } | { advanceMs }
 *   GET  /_batchron/faults                     -> throttles, event faults, seed, counters
 *   POST /_batchron/faults/throttle            { service, operation, perSecond }
 *   POST /_batchron/faults/events              { duplicateRate, dropRate, delayRate, delayMs, reorderRate, seed? }
 *   POST /_batchron/faults/reset
 *   POST /_batchron/jobs/{jobId}/kill          { reason? }  (as a lost host would)
 *   POST /_batchron/events                     { events: [EventBridge event, ...] } (1-10)
 *        publishes as an AWS service would, `aws.*` sources included (a simulated S3
 *        "Object Created"), which PutEvents refuses as on AWS; `batchron emit --as-aws-service`
 *
 * The same powers are on the in-process `LocalStack` object (local/stack.ts).
 */
import * as z from 'zod';
import type { Clock } from './clock.ts';
import type { AwsRequest, AwsResponse } from './contracts.ts';
import type { ControlHandler } from './endpoint.ts';
import type { Faults } from './faults.ts';
import { bearerMatches, TOKEN_FILE_HINT } from './guard.ts';

/** What the control API acts on; the stack provides it. */
export interface ControlTarget {
  clock: Clock;
  faults: Faults;
  /** Kills a running job as a lost host would; false when no such job is running. */
  killJob(jobId: string, reason?: string): boolean;
  /** Publishes events on the default bus as their service would (no PutEvents refusal of `aws.*`); returns their ids. */
  publishEvents(events: SimulatedEvent[]): string[];
  /** Extra facts for GET /_batchron/health. */
  health(): Record<string, unknown>;
  /** The bearer token every control request must carry. */
  token: string;
}

const rate = z.number().min(0).max(1);

export const ClockRequestSchema = z.union([
  z.object({ set: z.iso.datetime({ offset: true }) }).strict(),
  z.object({ advanceMs: z.number().int().min(0) }).strict(),
]);

export const ThrottleRequestSchema = z
  .object({
    service: z.string().min(1),
    operation: z.string().min(1),
    /** 0 removes the throttle. */
    perSecond: z.number().int().min(0),
  })
  .strict();

export const EventFaultsRequestSchema = z
  .object({
    duplicateRate: rate.optional(),
    dropRate: rate.optional(),
    delayRate: rate.optional(),
    /** A fixed delay or a [min, max] range, in clock ms. */
    delayMs: z.union([z.number().int().min(0), z.tuple([z.number().int().min(0), z.number().int().min(0)])]).optional(),
    reorderRate: rate.optional(),
    seed: z.number().int().optional(),
  })
  .strict();

/** An event as a service publishes it: the EventBridge envelope, id and time optional. */
export const SimulatedEventSchema = z
  .object({
    version: z.string().optional(),
    id: z.string().min(1).max(256).optional(),
    'detail-type': z.string().min(1).max(256),
    source: z.string().min(1).max(256),
    account: z.string().optional(),
    time: z.iso.datetime({ offset: true }).optional(),
    region: z.string().optional(),
    resources: z.array(z.string().max(2048)).max(100).optional(),
    detail: z.record(z.string(), z.unknown()),
  })
  .strict();
export type SimulatedEvent = z.infer<typeof SimulatedEventSchema>;

export const PublishEventsRequestSchema = z.object({ events: z.array(SimulatedEventSchema).min(1).max(10) }).strict();

export const KillRequestSchema = z.object({ reason: z.string().min(1).optional() }).strict();

/** A control request that failed validation or named nothing known. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** Builds the handler the endpoint calls for `/_batchron/*`. */
export function createControlHandler(target: ControlTarget): ControlHandler {
  return async (req: AwsRequest): Promise<AwsResponse> => {
    try {
      authorize(target, req);
      return ok(route(target, req));
    } catch (error) {
      if (error instanceof ControlError) return { status: error.status, body: { error: error.code, message: error.message } };
      throw error;
    }
  };
}

function route(target: ControlTarget, req: AwsRequest): unknown {
  const path = req.path.replace(/\/+$/, '');
  const { clock, faults } = target;
  const key = `${req.method} ${path}`;
  switch (key) {
    case 'GET /_batchron/health':
      return { ok: true, now: clock.date().toISOString(), ...target.health() };
    case 'GET /_batchron/clock':
      return clockState(clock);
    case 'POST /_batchron/clock': {
      const body = parse(ClockRequestSchema, req);
      if ('set' in body) clock.set(new Date(body.set));
      else clock.advance(body.advanceMs);
      return clockState(clock);
    }
    case 'GET /_batchron/faults':
      return faults.snapshot();
    case 'POST /_batchron/faults/throttle': {
      const body = parse(ThrottleRequestSchema, req);
      faults.throttle(body.service, body.operation, body.perSecond);
      return faults.snapshot();
    }
    case 'POST /_batchron/faults/events': {
      const { seed, delayMs, ...rest } = parse(EventFaultsRequestSchema, req);
      if (seed !== undefined) faults.seed(seed);
      faults.setEventFaults({
        ...rest,
        ...(delayMs === undefined ? {} : { delayMs: typeof delayMs === 'number' ? [delayMs, delayMs] : delayMs }),
      });
      return faults.snapshot();
    }
    case 'POST /_batchron/events':
      return { eventIds: target.publishEvents(parse(PublishEventsRequestSchema, req).events) };
    case 'POST /_batchron/faults/reset':
      faults.reset();
      return faults.snapshot();
  }
  const kill = /^\/_batchron\/jobs\/([^/]+)\/kill$/.exec(path);
  if (kill && req.method === 'POST') {
    const jobId = kill[1]!;
    const body = parse(KillRequestSchema, req);
    if (!target.killJob(jobId, body.reason)) throw new ControlError(404, 'NotFound', `No running job ${jobId}.`);
    return { killed: jobId };
  }
  throw new ControlError(404, 'NotFound', `No control route ${req.method} ${req.path}.`);
}

/** The token first, then a JSON content type on anything that is not a read. */
function authorize(target: ControlTarget, req: AwsRequest): void {
  const auth = req.headers.authorization;
  if (!bearerMatches(typeof auth === 'string' ? auth : undefined, target.token)) {
    throw new ControlError(
      401,
      'Unauthorized',
      `${auth ? 'The bearer token is not this stack\'s' : 'Missing Authorization header'}: send "Authorization: Bearer <token>" with the token in ${TOKEN_FILE_HINT}.`,
    );
  }
  if (req.method === 'GET' || req.method === 'HEAD') return;
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ControlError(415, 'UnsupportedMediaType', `Content-Type must be application/json (got ${type ? `"${type.slice(0, 100)}"` : 'none'}).`);
  }
}

function clockState(clock: Clock): { now: string; epochMs: number } {
  return { now: clock.date().toISOString(), epochMs: clock.now() };
}

function parse<T>(schema: z.ZodType<T>, req: AwsRequest): T {
  let raw: unknown = {};
  if (req.body.length > 0) {
    try {
      raw = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw new ControlError(400, 'ValidationError', 'The request body is not valid JSON.');
    }
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) =>
    // A union reports each alternative's issues; name the fields of the alternatives instead of "(root)".
    issue.code === 'invalid_union' ? issue.errors.flat() : [issue],
  );
  const message = issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
  throw new ControlError(400, 'ValidationError', message);
}

function ok(body: unknown): AwsResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body };
}
