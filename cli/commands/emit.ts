/**
 * `batchron emit <file.json>`: sends the EventBridge event(s) in a file to the local stack,
 * where the rules of event triggers (`on:`) start runs exactly as on AWS.
 *
 * An application's event (any source but `aws.*`) goes through PutEvents with the AWS SDK,
 * the same call an application makes on AWS. A service's event (`aws.s3` "Object Created"
 * and the like) cannot: PutEvents refuses `aws.*` sources, locally as on AWS. With
 * `--as-aws-service`, such events are published through the stack's control API
 * (`POST /_batchron/events`, bearer token of `.batchron/api-token`) as the service would.
 *
 * The file holds one event or an array of them, shaped as EventBridge delivers them (see
 * events/s3/object-created.json); `id` and `time` are kept with --as-aws-service, and
 * assigned by the bus with PutEvents.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Command, Option } from 'commander';
import * as z from 'zod';
import { DEFAULT_PORT } from '#local/contracts';
import { action, ExitCodeError, EXIT, usageExit, UsageError } from './common.ts';

const EventSchema = z.object({
  id: z.string().min(1).optional(),
  'detail-type': z.string().min(1, 'detail-type: must not be empty'),
  source: z.string().min(1, 'source: must not be empty'),
  time: z.iso.datetime({ offset: true }).optional(),
  resources: z.array(z.string()).optional(),
  detail: z.record(z.string(), z.unknown()),
});
const FileSchema = z.union([EventSchema, z.array(EventSchema).min(1).max(1000)]);
type Event = z.infer<typeof EventSchema>;

interface EmitOptions {
  endpoint?: string;
  asAwsService?: boolean;
  tokenFile: string;
  json?: boolean;
}

/** Reads and validates the events of `file`; the error names the file and the field. */
export function readEvents(file: string): Event[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: ${error instanceof SyntaxError ? `not JSON (${error.message})` : 'cannot be read'}`, { cause: error });
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message} (an EventBridge event, or an array of 1-1000)`);
  }
  return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
}

/** Registers `emit`. */
export function emitCommand(): Command {
  const cmd = new Command('emit')
    .description('send EventBridge events from a JSON file to the local stack (event triggers start runs)')
    .argument('<file>', 'a JSON file holding one EventBridge event or an array of them, e.g. events/s3/object-created.json')
    .option('--as-aws-service', 'publish as the AWS service would (needed for aws.* sources such as aws.s3, which PutEvents refuses)')
    .addOption(new Option('--endpoint <url>', 'the local stack (default: $AWS_ENDPOINT_URL or http://127.0.0.1:4566)'))
    .addOption(new Option('--token-file <file>', 'local stack token file (with --as-aws-service)').default('.batchron/api-token'))
    .option('--json', 'print the event ids as JSON');
  usageExit(cmd);
  cmd.action(
    action(async (file: string, opts: EmitOptions) => {
      const events = readEvents(file);
      const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${DEFAULT_PORT}`;
      const ids = opts.asAwsService ? await publishAsService(endpoint, opts.tokenFile, events) : await putEvents(endpoint, events);
      process.stdout.write(opts.json ? `${JSON.stringify(ids)}\n` : `${ids.map((id) => `sent ${id}`).join('\n')}\n`);
    }),
  );
  return cmd;
}

async function putEvents(endpoint: string, events: Event[]): Promise<string[]> {
  const service = events.find((e) => e.source.startsWith('aws.'));
  if (service) {
    throw new UsageError(`source "${service.source}" is an AWS service's: PutEvents refuses it (locally as on AWS); add --as-aws-service to publish it as the service would`);
  }
  const client = new EventBridgeClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
  });
  const ids: string[] = [];
  try {
    for (let i = 0; i < events.length; i += 10) {
      const out = await client.send(
        new PutEventsCommand({
          Entries: events.slice(i, i + 10).map((e) => ({
            Source: e.source,
            DetailType: e['detail-type'],
            Detail: JSON.stringify(e.detail),
            ...(e.resources ? { Resources: e.resources } : {}),
            ...(e.time ? { Time: new Date(e.time) } : {}),
          })),
        }),
      );
      for (const entry of out.Entries ?? []) {
        if (entry.ErrorCode) throw new ExitCodeError(EXIT.usage, `error: PutEvents refused an event: ${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`);
        ids.push(entry.EventId ?? '');
      }
    }
  } finally {
    client.destroy();
  }
  return ids;
}

async function publishAsService(endpoint: string, tokenFile: string, events: Event[]): Promise<string[]> {
  let token = process.env.BATCHRON_API_TOKEN;
  if (!token) {
    try {
      token = readFileSync(resolve(tokenFile), 'utf8').trim();
    } catch {
      throw new ExitCodeError(EXIT.auth, `error: no token at ${tokenFile}: start the local stack first (npm start creates it), or set BATCHRON_API_TOKEN`);
    }
  }
  const ids: string[] = [];
  for (let i = 0; i < events.length; i += 10) {
    let res: Response;
    try {
      res = await fetch(new URL('/_batchron/events', endpoint), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: events.slice(i, i + 10) }),
      });
    } catch (error) {
      throw new ExitCodeError(EXIT.unreachable, `error: nothing answered at ${endpoint}: is the local stack running (npm start)?`);
    }
    const body = (await res.json().catch(() => ({}))) as { eventIds?: string[]; message?: string };
    if (res.status === 401) throw new ExitCodeError(EXIT.auth, `error: ${body.message ?? 'the stack refused the token'}`);
    if (!res.ok) throw new ExitCodeError(res.status < 500 ? EXIT.usage : EXIT.internal, `error: the stack refused the events (HTTP ${res.status}): ${body.message ?? ''}`);
    ids.push(...(body.eventIds ?? []));
  }
  return ids;
}
