/**
 * The api function in process for the API fuzz (test/unit/fuzz-api.test.ts): the real
 * functions/api.ts handler over the crash world (test/helpers/crash-world.ts: the in-memory
 * stores, in-process Batch, Scheduler and Lambda for the engine), with in-memory stand-ins
 * of the services the API itself calls, answering as the local stack's do:
 *
 * - Scheduler: the deployment's schedule group holding serverless.yml's schedules as the
 *   local deploy creates them (resolved by osls, normalized by the plugin's rules:
 *   `templateResources`); Create / Get / Update / Delete / List with the local Scheduler's
 *   own input validation (local/scheduler/validate.ts) and its errors as the SDK raises them
 *   (ResourceNotFoundException, ConflictException, ValidationException);
 * - Batch: the deployment's job queue and job definitions; no job of another id;
 * - CloudWatch Logs: no log stream; EventBridge: no rule of the deployment.
 *
 * Requests are API Gateway payload 2.0 events built by the local HTTP API's own
 * `buildEventV2` (authorized: as the gateway passes the operator's bearer token), answers
 * read by its `interpretResult`.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ClientException, DescribeJobDefinitionsCommand, DescribeJobQueuesCommand, DescribeJobsCommand, type BatchClient } from '@aws-sdk/client-batch';
import { GetLogEventsCommand, ResourceNotFoundException as LogsNotFound, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ListRulesCommand, ListTargetsByRuleCommand, ResourceNotFoundException as EventsNotFound, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  ValidationException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { AwsError } from '#local/contracts';
import { resolveService, templateResources, type ResolvedService } from '#local/deploy';
import { buildEventV2, interpretResult, type GatewayResponse } from '#local/http-api';
import { validateSchedule } from '#local/scheduler/validate';
import type { ScheduleDefinition } from '#shared/config/definition';
import { getEnv } from '#shared/env';
import { CrashWorld, QUEUE } from './crash-world.ts';
import { PROJECT_DIR } from '../integration/package.helpers.ts';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

/** serverless.yml as the local deploy reads it: resolved by `osls print`, its schedules normalized. */
export interface Project {
  service: ResolvedService;
  definitions: Record<string, ScheduleDefinition>;
  /** The template's AWS::Scheduler::Schedule resources (serverless.yml's schedules and the sweep's), as the local deploy creates them. */
  schedules: Record<string, any>[];
  /** The api function's routes serverless.yml declares without an authorizer (public: the dashboard's files, its sign-in answer). */
  publicRoutes: { method: string; path: string }[];
}

export async function loadProject(): Promise<Project> {
  const service = await resolveService(PROJECT_DIR);
  const { definitions, resources } = templateResources(service, { stage: service.provider.stage ?? 'dev', region: REGION });
  const schedules = Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule').map((r) => r.Properties as Record<string, any>);
  const publicRoutes: Project['publicRoutes'] = [];
  for (const event of service.functions?.api?.events ?? []) {
    const route = event.httpApi as { method: string; path: string; authorizer?: unknown } | undefined;
    if (route && route.authorizer === undefined) publicRoutes.push({ method: route.method.toUpperCase(), path: route.path });
  }
  return { service, definitions, schedules, publicRoutes };
}

/** An SDK input's timestamps as the wire carries them (epoch seconds), for the local Scheduler's validation. */
function wireBody(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  for (const k of ['StartDate', 'EndDate']) if (out[k] instanceof Date) out[k] = (out[k] as Date).getTime() / 1000;
  return out;
}

type Stored = Record<string, any> & { Name: string; GroupName: string; Arn: string; State: string };

/** The Scheduler's schedules in memory, each command answered as the local Scheduler answers it. */
export class MemoryScheduler {
  readonly schedules = new Map<string, Stored>();

  constructor(private readonly now: () => number) {}

  private key(group: string | undefined, name: string | undefined): string {
    return `${group ?? 'default'}/${name}`;
  }

  private get(group: string | undefined, name: string | undefined): Stored {
    const s = this.schedules.get(this.key(group, name));
    if (!s) throw new ResourceNotFoundException({ message: `Schedule ${name} does not exist.`, Message: `Schedule ${name} does not exist.`, $metadata: {} });
    return s;
  }

  private validated(sdkInput: object): Stored {
    const input = sdkInput as Record<string, unknown>;
    try {
      const spec = validateSchedule(wireBody(input), this.now());
      const group = (input.GroupName as string | undefined) ?? 'default';
      return { ...input, GroupName: group, State: spec.State, Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${String(input.Name)}` } as Stored;
    } catch (error) {
      if (error instanceof AwsError) throw new ValidationException({ message: error.message, Message: error.message, $metadata: {} });
      throw error;
    }
  }

  async send(command: unknown): Promise<unknown> {
    if (command instanceof GetScheduleCommand) return { ...this.get(command.input.GroupName, command.input.Name) };
    if (command instanceof CreateScheduleCommand) {
      const k = this.key(command.input.GroupName, command.input.Name);
      if (this.schedules.has(k)) throw new ConflictException({ message: `Schedule ${command.input.Name} already exists.`, Message: `Schedule ${command.input.Name} already exists.`, $metadata: {} });
      const s = this.validated(command.input);
      this.schedules.set(k, s);
      return { ScheduleArn: s.Arn };
    }
    if (command instanceof UpdateScheduleCommand) {
      this.get(command.input.GroupName, command.input.Name);
      const s = this.validated(command.input);
      this.schedules.set(this.key(command.input.GroupName, command.input.Name), s);
      return { ScheduleArn: s.Arn };
    }
    if (command instanceof DeleteScheduleCommand) {
      this.get(command.input.GroupName, command.input.Name);
      this.schedules.delete(this.key(command.input.GroupName, command.input.Name));
      return {};
    }
    if (command instanceof ListSchedulesCommand) {
      const { GroupName, NamePrefix } = command.input;
      const Schedules = [...this.schedules.values()]
        .filter((s) => (GroupName === undefined || s.GroupName === GroupName) && (NamePrefix === undefined || s.Name.startsWith(NamePrefix)))
        .sort((a, b) => a.Name.localeCompare(b.Name))
        .map((s) => ({ Arn: s.Arn, Name: s.Name, GroupName: s.GroupName, State: s.State, Target: { Arn: s.Target?.Arn } }));
      return { Schedules };
    }
    throw new Error(`the API world's Scheduler does not answer ${String((command as object)?.constructor?.name)}`);
  }
}

/** Batch as the deployment has it: its job queue and job definitions (serverless.yml's tasks'), no job the API can look up by a made-up id. */
function memoryBatch(definitions: Record<string, ScheduleDefinition>): BatchClient {
  const tasks = Object.values(definitions).flatMap((d) => Object.values(d.tasks));
  const jobDefinitions = new Set(tasks.map((t) => t.jobDefinition));
  const queues = new Set([QUEUE, ...tasks.map((t) => t.jobQueue)]);
  return {
    send: async (command: unknown) => {
      if (command instanceof DescribeJobsCommand) return { jobs: [] };
      if (command instanceof DescribeJobQueuesCommand) {
        const refs = command.input.jobQueues ?? [];
        const names = refs.map((r) => (r.startsWith('arn:') ? r.slice(r.lastIndexOf('/') + 1) : r)).filter((n) => queues.has(n));
        return { jobQueues: names.map((n) => ({ jobQueueName: n, jobQueueArn: `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${n}`, state: 'ENABLED', status: 'VALID' })) };
      }
      if (command instanceof DescribeJobDefinitionsCommand) {
        const name = command.input.jobDefinitionName;
        if (name !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(name)) throw new ClientException({ message: `jobDefinitionName ${name} is not valid.`, $metadata: {} });
        return {
          jobDefinitions: name && jobDefinitions.has(name)
            ? [{ jobDefinitionName: name, jobDefinitionArn: `arn:aws:batch:${REGION}:${ACCOUNT}:job-definition/${name}:1`, revision: 1, status: 'ACTIVE', type: 'container', platformCapabilities: ['FARGATE'], containerProperties: { command: ['true'] } }]
            : [],
        };
      }
      throw new Error(`the API world's Batch does not answer ${String((command as object)?.constructor?.name)}`);
    },
  } as unknown as BatchClient;
}

const logs = {
  send: async (command: unknown) => {
    if (command instanceof GetLogEventsCommand) throw new LogsNotFound({ message: 'The specified log stream does not exist.', $metadata: {} });
    throw new Error(`the API world's Logs does not answer ${String((command as object)?.constructor?.name)}`);
  },
} as unknown as CloudWatchLogsClient;

const events = {
  send: async (command: unknown) => {
    if (command instanceof ListRulesCommand) return { Rules: [] };
    if (command instanceof ListTargetsByRuleCommand) throw new EventsNotFound({ message: `Rule ${command.input.Rule} does not exist.`, $metadata: {} });
    throw new Error(`the API world's EventBridge does not answer ${String((command as object)?.constructor?.name)}`);
  },
} as unknown as EventBridgeClient;

/** A crash world whose API answers over the stand-ins above, serverless.yml's schedules in its Scheduler. */
export async function apiWorld(project: Project): Promise<{ world: CrashWorld; scheduler: MemoryScheduler }> {
  const world = await CrashWorld.create();
  const scheduler = new MemoryScheduler(() => world.now);
  const env = getEnv();
  // The template's intrinsics as the deploy evaluates them, in the world's deployment: `Ref` of the group, `GetAtt` of a function's or the role's ARN.
  const evaluate = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(evaluate);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if ('Ref' in o) return env.scheduleGroup;
    if ('Fn::GetAtt' in o) {
      const id = (o['Fn::GetAtt'] as string[])[0]!;
      const fn = /^(\w+?)LambdaFunction$/.exec(id);
      if (fn) return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${world.deployment}-${fn[1]!.charAt(0).toLowerCase()}${fn[1]!.slice(1)}`;
      if (id === 'BatchronSchedulerRole') return env.schedulerRoleArn;
      throw new Error(`the API world cannot evaluate GetAtt ${id}`);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, evaluate(x)]));
  };
  for (const props of project.schedules) await scheduler.send(new CreateScheduleCommand(evaluate(props) as CreateScheduleCommandInput));
  world.apiClients = { scheduler: scheduler as unknown as SchedulerClient, batch: memoryBatch(project.definitions), logs, events };
  return { world, scheduler };
}

/** A raw request as a client sends it. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * The payload 2.0 event the local HTTP API builds for `req` on its catch-all route,
 * `authorized` as it is when the gateway found the operator's bearer token.
 */
export function eventOf(req: RawRequest, authorized: boolean, now: number): APIGatewayProxyEventV2 {
  const path = req.path.split('?')[0]!;
  return buildEventV2({
    method: req.method,
    url: req.path,
    httpVersion: '1.1',
    rawHeaders: Object.entries({ host: '127.0.0.1', ...req.headers }).flat(),
    body: Buffer.from(req.body ?? ''),
    routeKey: 'ANY /{proxy+}',
    pathParameters: { proxy: path.slice(1) },
    sourceIp: '127.0.0.1',
    now,
    apiId: 'local',
    domainName: '127.0.0.1',
    authorized,
  }) as unknown as APIGatewayProxyEventV2;
}

/** The answer as the gateway gives it to the client (HEAD: no body). */
export async function invoke(world: CrashWorld, req: RawRequest, authorized: boolean): Promise<{ status: number; text: string; response: GatewayResponse }> {
  const response = interpretResult(await world.invokeApi(eventOf(req, authorized, world.now)));
  return { status: response.status, text: req.method === 'HEAD' ? '' : response.body.toString('utf8'), response };
}
