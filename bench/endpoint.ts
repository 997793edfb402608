/**
 * Benchmark of the local stack's AWS endpoint, printed as figures (never asserted):
 *
 *   1. baseline: a bare HTTP echo server on loopback, the floor any endpoint sits on;
 *   2. SubmitJob + DescribeJobs round trips per second through the real `@aws-sdk/client-batch`,
 *      sequential and with 16 in flight (the compute environment is DISABLED so jobs stay
 *      RUNNABLE: this measures the API, not process start-up);
 *   3. schedule-fire lateness: 1,000 `at()` schedules due in the same minute with a Lambda
 *      target that records its arrival on the Clock against `<aws.scheduler.scheduled-time>`.
 *
 * Every loop is bounded in count and time and talks only to 127.0.0.1. The last line is JSON.
 * Run: npm run bench:endpoint [-- --requests 2000 --schedules 1000]
 */
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import {
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
} from '@aws-sdk/client-batch';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { startLocalStack } from '#local/stack';
import { awsClients } from '#test/helpers/aws';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    schedules: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const REQUESTS = Number(args.requests);
const SCHEDULES = Number(args.schedules);
const CONCURRENCY = Number(args.concurrency);
/** No phase may run longer than this, whatever the machine. */
const PHASE_LIMIT_MS = 120_000;

interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
}

/** Runs `op` `total` times with `concurrency` in flight; stops early at the phase limit. */
async function measure(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Rate> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const deadline = started + PHASE_LIMIT_MS;
  const worker = async () => {
    while (next < total && performance.now() < deadline) {
      const i = next++;
      await op(i);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { count: done, seconds: round(seconds, 2), perSecond: round(done / seconds, 1) };
}

async function baseline(): Promise<{ sequential: Rate; concurrent: Rate }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const payload = JSON.stringify({ jobName: 'bench', jobQueue: 'bench-q', jobDefinition: 'bench-def' });
  const echo = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/submitjob', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(payload);
    });
  try {
    // Two echoes per op, as the Batch figure is two calls per round trip.
    const pair = async () => {
      await echo();
      await echo();
    };
    await measure(100, 1, pair);
    return { sequential: await measure(REQUESTS, 1, pair), concurrent: await measure(REQUESTS, CONCURRENCY, pair) };
  } finally {
    agent.destroy();
    await new Promise((r) => server.close(r));
  }
}

async function batchRoundTrips(): Promise<{ sequential: Rate; concurrent: Rate }> {
  const stack = await startLocalStack({ port: 0, dynamodb: false, log: () => undefined });
  const { batch } = awsClients(stack.url);
  try {
    await batch.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'bench-ce',
        type: 'MANAGED',
        // DISABLED: submitted jobs wait RUNNABLE, so no process start-up competes with the API.
        state: 'DISABLED',
        computeResources: { type: 'EC2', minvCpus: 0, maxvCpus: 4, subnets: ['subnet-1'], instanceRole: 'ecsInstanceRole' },
      }),
    );
    await batch.send(new CreateJobQueueCommand({ jobQueueName: 'bench-q', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'bench-ce' }] }));
    await batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'bench-def',
        type: 'container',
        containerProperties: { image: 'busybox', command: ['true'], resourceRequirements: [{ type: 'VCPU', value: '1' }, { type: 'MEMORY', value: '128' }] },
      }),
    );
    const roundTrip = async (i: number) => {
      const { jobId } = await batch.send(new SubmitJobCommand({ jobName: `bench-${i}`, jobQueue: 'bench-q', jobDefinition: 'bench-def' }));
      const out = await batch.send(new DescribeJobsCommand({ jobs: [jobId!] }));
      if (out.jobs?.[0]?.jobId !== jobId) throw new Error('DescribeJobs did not return the submitted job');
    };
    await measure(100, 1, roundTrip);
    return { sequential: await measure(REQUESTS, 1, roundTrip), concurrent: await measure(REQUESTS, CONCURRENCY, roundTrip) };
  } finally {
    batch.destroy();
    await stack.stop({ graceMs: 0 });
  }
}

async function fireLateness(): Promise<{ count: number; expected: number; p50Ms: number; p99Ms: number; maxMs: number; createPerSecond: number }> {
  const stack = await startLocalStack({ port: 0, dynamodb: false, log: () => undefined });
  const { scheduler } = awsClients(stack.url);
  const lateness: number[] = [];
  let resolveAll: () => void = () => undefined;
  const allArrived = new Promise<void>((r) => (resolveAll = r));
  const arn = stack.lambda.register(
    'record-arrival',
    async (event: { scheduledTime: string }) => {
      lateness.push(stack.clock.now() - Date.parse(event.scheduledTime));
      if (lateness.length >= SCHEDULES) resolveAll();
    },
    { reservedConcurrency: 1_000 },
  );
  try {
    // Due on a whole minute well ahead, so creating them all cannot race the fire.
    const due = new Date(Math.ceil((stack.clock.now() + 600_000) / 60_000) * 60_000);
    const expression = `at(${due.toISOString().slice(0, 19)})`;
    const created = await measure(SCHEDULES, CONCURRENCY, (i) =>
      scheduler.send(
        new CreateScheduleCommand({
          Name: `bench-${i}`,
          ScheduleExpression: expression,
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: { Arn: arn, RoleArn: 'arn:aws:iam::000000000000:role/bench', Input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}' },
        }),
      ),
    );
    // Two seconds before the minute, then real time runs into it: lateness is what the stack adds.
    stack.clock.set(due.getTime() - 2_000);
    await Promise.race([allArrived, new Promise((r) => setTimeout(r, 60_000).unref())]);
    await stack.idle();
    const sorted = [...lateness].sort((a, b) => a - b);
    return {
      count: sorted.length,
      expected: created.count,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? NaN,
      createPerSecond: created.perSecond,
    };
  } finally {
    scheduler.destroy();
    await stack.stop({ graceMs: 0 });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const show = (label: string, r: Rate) => console.log(`  ${label.padEnd(28)} ${String(r.perSecond).padStart(9)} /s  (${r.count} in ${r.seconds} s)`);

console.log(`Batchron endpoint benchmark: ${REQUESTS} round trips per phase, concurrency ${CONCURRENCY}, ${SCHEDULES} schedules`);
const base = await baseline();
console.log('Baseline (bare HTTP echo on loopback, 2 requests per round trip):');
show('sequential', base.sequential);
show(`concurrency ${CONCURRENCY}`, base.concurrent);
const batchRates = await batchRoundTrips();
console.log('SubmitJob + DescribeJobs round trips (@aws-sdk/client-batch):');
show('sequential', batchRates.sequential);
show(`concurrency ${CONCURRENCY}`, batchRates.concurrent);
const fires = await fireLateness();
console.log(`Schedule-fire lateness (${fires.count}/${fires.expected} at() schedules due in the same minute, Lambda target):`);
console.log(`  p50 ${fires.p50Ms} ms   p99 ${fires.p99Ms} ms   max ${fires.maxMs} ms   (created at ${fires.createPerSecond}/s)`);
console.log(
  JSON.stringify({
    baseline: { sequentialPerSecond: base.sequential.perSecond, concurrentPerSecond: base.concurrent.perSecond },
    submitDescribe: { sequentialPerSecond: batchRates.sequential.perSecond, concurrentPerSecond: batchRates.concurrent.perSecond, concurrency: CONCURRENCY },
    fireLateness: { schedules: fires.expected, fired: fires.count, p50Ms: fires.p50Ms, p99Ms: fires.p99Ms, maxMs: fires.maxMs },
  }),
);
