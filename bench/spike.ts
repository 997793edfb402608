/**
 * The hour-spike benchmark: N schedules fire in the same minute against the local stack,
 * with Batch SubmitJob throttled to T per second (TooManyRequestsException, HTTP 429, as
 * AWS Batch answers over its quota) and job events duplicated and reordered. The real
 * handlers (functions/*.ts) run in this process on the local Lambda runtime; the Scheduler
 * schedules are created through @aws-sdk/client-scheduler and fire on the stack Clock, which
 * is set a few seconds before the minute and then moves in real time.
 *
 *   npm run bench:spike [-- --schedules 2000 | --full] [--tps 50] [--dup 0.1] [--reorder 0.1]
 *                       [--seed 1] [--timeout 600] [--sweep 'rate(5 minutes)'] [--projections narrow|all]
 *                       [--concurrency 100] [--via-endpoint] [--submit-rate T] [--first-run]
 *                       [--warmup 12000]
 *
 * Each schedule has run once before (an hour earlier, SUCCEEDED: its state records that
 * outcome, as an hourly schedule's does at the top of any hour but its first), so a run that
 * succeeds again is finalized in the write that ends it. `--first-run` measures schedules that
 * never ran: each first success also records the schedule's first outcome (3 more requests).
 *
 * It prints a progress line every 2 s, then the figures, the cost per million runs
 * (bench/cost-model.ts) and, last, one JSON line. Exit status 1 when a job was submitted twice
 * for a run or a run never succeeded.
 *
 * What it models: Scheduler firing N Lambda targets at the same instant; Lambda's async queue
 * (events beyond a function's concurrency wait in it), its 6-hour event age and its two
 * retries after 1 and 2 minutes, then discard; Batch's SubmitJob quota as a fixed
 * window of T calls per clock second; EventBridge duplicating and reordering Batch's
 * state-change events; DynamoDB's conditional writes and capacity accounting (DynamoDB Local);
 * the sweeper on its serverless.yml rate as the last resort.
 *
 * The machine is part of what is measured. Every function gets a concurrency of 100 here
 * (--concurrency), not AWS's 1,000: one process cannot run 1,000 handlers in parallel, they
 * share its cores and one DynamoDB Local, all of them slow down together and time out (a
 * first version did exactly that: 724 events discarded). DynamoDB Local runs in memory and the
 * functions reach it directly (--via-endpoint goes through the stack's proxy). Before the
 * spike, DynamoDB Local's JIT is warmed with 12,000 engine-shaped requests on a scratch table
 * (bench/lib/spike-warmup.ts; --warmup 0 for a cold JVM): DynamoDB on AWS is always warm, and
 * a cold JVM spends 2-4x the CPU per request on its first ~10,000 requests, which on 2 cores
 * shared with the handlers shows as a slow first ten seconds. Job processes are started by the
 * local Batch's launcher process (local/batch/launcher.mjs), not by this process's main thread.
 * One DynamoDB Local JVM on 2 cores still serves only ~1,300 simple requests/s warm and a run
 * costs ~13 of them, so a much higher --tps measures this machine, not the engine.
 *
 * What it does not model: Scheduler's own pacing of a burst (AWS spreads a minute's
 * invocations and throttles per account; here all N are delivered at once), the account's
 * Lambda concurrency and burst scaling limits shared with other functions (a lower reserved
 * concurrency on `fire` would queue more fires, not lose them), cold starts (the handlers are
 * warm in this process), network latency to AWS (loopback here), DynamoDB's per-partition
 * throughput and on-demand scaling (DynamoDB Local is one JVM that here competes for the same
 * 2 cores as everything else, so it is slower than DynamoDB, not faster), Batch's token-bucket
 * burst (AWS may allow short bursts above T; the fixed window never does), rate limits on
 * ListJobs/DescribeJobs, Batch scheduling and container start time (jobs run `true` as a local
 * process on a compute environment too large to queue them), and Slack.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { spawnDynamoDBLocal } from '#local/dynamodb';
import { startLocalStack } from '#local/stack';
import { dynamodb as functionsDynamodb } from '#shared/clients/dynamodb';
import { TAGS } from '#shared/engine/submit';
import { runIdFor } from '#shared/engine/naming';
import { getRun } from '#shared/store/runs';
import { releaseRun } from '#shared/store/schedules';
import type { RunItem } from '#shared/store/schema';
import { costReport } from './cost-model.ts';
import { countCapacity } from './lib/spike-capacity.ts';
import { deploySpike, forEachLimited, SERVERLESS_YML } from './lib/spike-deploy.ts';
import { percentile, seconds } from './lib/spike-stats.ts';
import { warmDynamoDB } from './lib/spike-warmup.ts';

const { values } = parseArgs({
  options: {
    schedules: { type: 'string' },
    full: { type: 'boolean', default: false },
    tps: { type: 'string', default: '50' },
    dup: { type: 'string', default: '0.1' },
    reorder: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '600' },
    sweep: { type: 'string', default: SERVERLESS_YML.sweepExpression },
    projections: { type: 'string', default: 'narrow' },
    'create-concurrency': { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
    'via-endpoint': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '100' },
    'submit-rate': { type: 'string' },
    'first-run': { type: 'boolean', default: false },
    warmup: { type: 'string', default: '12000' },
  },
});
const N = Number(values.schedules ?? (values.full ? 10_000 : 2_000));
const T = Number(values.tps);
const dup = Number(values.dup);
const reorder = Number(values.reorder);
const timeoutMs = Number(values.timeout) * 1000;
const submitRate = Number(values['submit-rate'] ?? T);
const warmup = Number(values.warmup);
if (!Number.isInteger(N) || N < 1 || !(T > 0) || !(dup >= 0 && dup <= 1) || !(reorder >= 0 && reorder <= 1) || !(Number.isInteger(warmup) && warmup >= 0)) {
  console.error('usage: npm run bench:spike -- [--schedules N | --full] [--tps T] [--dup 0..1] [--reorder 0..1] [--warmup requests, 0 = cold]');
  process.exit(2);
}

const say = (line: string) => console.log(line);
const warnings: string[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'batchron-bench-spike-'));
// The functions write through their own client (shared/clients/dynamodb.ts); they run in this process.
const capacity = countCapacity(functionsDynamodb);

// DynamoDB Local keeps its tables in memory here: with a database file (SQLite) it manages
// ~100 writes/s on this class of machine, a tenth of what the spike asks, and the benchmark
// would measure SQLite. Batch and Scheduler state still go to the temp dataDir.
const ddb = await spawnDynamoDBLocal();

let firstFireAt: number | undefined;
let firesOk = 0;
let fireAttemptsFailed = 0;
const stack = await startLocalStack({
  port: 0,
  dataDir,
  dynamodb: { endpoint: ddb.url },
  seed: Number(values.seed),
  log: (line) => warnings.push(line),
  onFire: (f) => {
    if (f.name.startsWith('_')) return;
    if (f.ok) {
      firesOk += 1;
      firstFireAt ??= stack.clock.now();
    } else fireAttemptsFailed += 1;
  },
});

let exitCode = 0;
try {
  say(`hour spike: ${N} schedules, SubmitJob throttled to ${T}/s, paced to ${submitRate}/s, events duplicated ${dup * 100}% and reordered ${reorder * 100}%, sweep ${values.sweep}`);
  const deploy = await deploySpike(stack, {
    projections: values.projections === 'all' ? 'all' : 'narrow',
    sweepExpression: values.sweep,
    concurrency: Number(values.concurrency),
    // The deployment paces itself to the quota it was given (custom.batchron.submitRate = T).
    submitRate: submitRate,
    // The functions reach DynamoDB Local directly unless --via-endpoint: the stack's proxy hop
    // costs CPU on the same 2 cores and models nothing AWS has.
    ...(values['via-endpoint'] ? {} : { dynamodbEndpoint: ddb.url }),
  });
  const fnName = (name: string) => name.slice(deploy.deployment.length + 1);

  // Lambda durations per function, for the cost model (GB-seconds).
  const durations = new Map<string, { n: number; ms: number }>();
  stack.lambda.onInvoke((r) => {
    const d = durations.get(fnName(r.name)) ?? { n: 0, ms: 0 };
    d.n += 1;
    d.ms += Math.ceil(r.durationMs);
    durations.set(fnName(r.name), d);
  });
  const discarded: string[] = [];
  stack.lambda.onDiscard((r) => discarded.push(`${fnName(r.name)} ${r.reason}`));

  // Jobs as Batch reports them, for the progress line (the final count comes from ListJobs).
  const jobStatus = new Map<string, string>();
  stack.bus.onEvent((a) => {
    if (a.kind !== 'published' || a.event.source !== 'aws.batch') return;
    const detail = a.event.detail as { jobId: string; jobName: string; status: string };
    if (!detail.jobName.startsWith(`${deploy.deployment}_`)) return;
    jobStatus.set(detail.jobId, detail.status);
  });

  // All N due at the same minute, a few minutes ahead of the stack clock.
  const due = Math.ceil((stack.clock.now() + 5 * 60_000) / 60_000) * 60_000;
  const at = new Date(due);
  const expression = `cron(${at.getUTCMinutes()} ${at.getUTCHours()} * * ? *)`;
  const names = Array.from({ length: N }, (_, i) => `spike-${String(i + 1).padStart(5, '0')}`);
  const createStarted = Date.now();
  let lastCreateLine = 0;
  await forEachLimited(names, Number(values['create-concurrency']), (name) => deploy.createSchedule(name, expression), (done) => {
    if (done === N || Date.now() - lastCreateLine >= 2_000) {
      lastCreateLine = Date.now();
      say(`creating schedules: ${done}/${N} (${seconds(Date.now() - createStarted)} s)`);
    }
  });
  if (!values['first-run']) {
    // The previous hour's run of each schedule, recorded the way the engine records it.
    const previous = new Date(due - 3_600_000).toISOString();
    const seedStore = { doc: deploy.clients.doc, table: deploy.table };
    await forEachLimited(names, Number(values['create-concurrency']), (schedule) =>
      releaseRun(seedStore, { schedule, runId: `${schedule}.previous`, scheduledTime: previous, outcome: 'SUCCEEDED' }).then(() => undefined),
    );
    say(`each schedule's previous run (${previous}) recorded as SUCCEEDED`);
  }
  let warmupRequests = 0;
  if (warmup > 0) {
    const warmStarted = Date.now();
    let lastWarmLine = 0;
    const made = await warmDynamoDB(deploy.clients.dynamodb, deploy.clients.doc, deploy.table, deploy.definition, warmup, (done, total) => {
      if (done >= total || Date.now() - lastWarmLine >= 2_000) {
        lastWarmLine = Date.now();
        say(`warming DynamoDB Local's JIT (DynamoDB on AWS is warm): ${done}/${total} requests (${seconds(Date.now() - warmStarted)} s)`);
      }
    });
    warmupRequests = made;
    say(`DynamoDB Local warmed with ${made} engine-shaped requests on a scratch table`);
  }
  say(`all ${N} schedules are ${expression} UTC (due ${at.toISOString()}); jumping the clock to 3 s before`);

  stack.faults.throttle('batch', 'SubmitJob', T);
  stack.faults.setEventFaults({ duplicateRate: dup, reorderRate: reorder });
  stack.clock.set(due - 3_000);

  const scheduledTime = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const runIds = names.map((schedule) => runIdFor({ schedule, scheduledTime }));
  const store = { doc: deploy.clients.doc, table: deploy.table };
  const runs = new Map<string, RunItem>();
  const readLimit = pLimit(16);
  /** Reads the runs not yet known to have succeeded; true when all have. */
  const refreshRuns = async (): Promise<boolean> => {
    const open = runIds.filter((id) => runs.get(id)?.status !== 'SUCCEEDED');
    await Promise.all(
      open.map((id) =>
        readLimit(async () => {
          const run = await getRun(store, id);
          if (run) runs.set(id, run);
        }),
      ),
    );
    return runIds.every((id) => runs.get(id)?.status === 'SUCCEEDED');
  };

  const throttledCount = () => stack.faults.counters.get('throttled:batch:SubmitJob') ?? 0;
  const progress = () => {
    const t = stack.clock.now() - due;
    const submitted = jobStatus.size;
    const succeeded = [...jobStatus.values()].filter((s) => s === 'SUCCEEDED').length;
    say(
      `t${t >= 0 ? '+' : ''}${seconds(t)} s  fired ${firesOk}/${N}  submitted ${submitted}  succeeded ${succeeded}  throttled ${throttledCount()}` +
        `  lambda retries ${Object.values(stack.lambda.stats()).reduce((a, s) => a + s.retries, 0)}`,
    );
    return succeeded;
  };
  const deadline = due + timeoutMs;
  let allSucceeded = false;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2_000));
    const succeeded = progress();
    // Batch says every job ended: confirm on the runs themselves (their events may still be in flight).
    if (succeeded >= N && (await refreshRuns())) {
      allSucceeded = true;
      break;
    }
    if (stack.clock.now() > deadline) {
      await refreshRuns();
      break;
    }
  }
  await stack.idle();

  // ---- figures ----
  const jobs = await deploy.listJobs();
  const names_ = new Set(jobs.map((j) => j.jobName));
  const jobsPerRun = new Map<string, number>();
  for (const j of jobs) {
    const runId = stack.batch.describe(j.jobId!)?.tags?.[TAGS.run] ?? '(untagged)';
    jobsPerRun.set(runId, (jobsPerRun.get(runId) ?? 0) + 1);
  }
  const duplicateJobs = [...jobsPerRun.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
  const runsCreated = runIds.filter((id) => runs.has(id)).length;
  const succeededRuns = runIds.filter((id) => runs.get(id)?.status === 'SUCCEEDED');
  const lostRuns = N - runIds.filter((id) => runs.get(id)?.status === 'SUCCEEDED' && jobsPerRun.get(id) === 1).length;
  const ended = succeededRuns.map((id) => Date.parse(runs.get(id)!.endedAt ?? '')).filter(Number.isFinite);
  const lastSucceededAt = ended.length ? Math.max(...ended) : undefined;
  const start = firstFireAt ?? due;
  const drainSeconds = allSucceeded && lastSucceededAt !== undefined ? (lastSucceededAt - start) / 1000 : null;
  const floorSeconds = N / T;
  const latencies = runIds
    .map((id) => runs.get(id)?.tasks.main?.attempts[0]?.submittedAt)
    .filter((s): s is string => s !== undefined)
    .map((s) => Date.parse(s) - due)
    .sort((a, b) => a - b);
  const deferred = runIds.filter((id) => (runs.get(id)?.tasks.main?.attempts[0]?.deferrals ?? 0) > 0).length;
  const stats = stack.lambda.stats();
  const byFunction = Object.fromEntries(Object.entries(stats).map(([name, s]) => [fnName(name), s]));
  const invocations = Object.values(stats).reduce((a, s) => a + s.invocations, 0);
  const totalMs = [...durations.values()].reduce((a, d) => a + d.ms, 0);
  const totalN = [...durations.values()].reduce((a, d) => a + d.n, 0);
  const counters = Object.fromEntries(stack.faults.counters);
  const throttled = throttledCount();

  const perRun = (x: number) => Math.round((x / N) * 100) / 100;
  say('');
  say(`runs created                 ${runsCreated}/${N} (${succeededRuns.length} SUCCEEDED)`);
  say(`Batch jobs submitted         ${jobs.length} (${names_.size} distinct names; duplicate jobs ${duplicateJobs}; runs without exactly one job or not SUCCEEDED ${lostRuns})`);
  say(
    `time to drain                ${drainSeconds === null ? 'did not drain' : `${drainSeconds.toFixed(1)} s`} (first fire → last run SUCCEEDED) vs floor N/T ${floorSeconds.toFixed(1)} s` +
      (drainSeconds === null ? '' : `: ratio ${(drainSeconds / floorSeconds).toFixed(3)} (target ≤ 1.15)`),
  );
  say(`fire-to-submit latency       p50 ${seconds(percentile(latencies, 0.5))} s  p99 ${seconds(percentile(latencies, 0.99))} s  max ${seconds(latencies.at(-1) ?? NaN)} s (scheduled time → SubmitJob accepted)`);
  say(`Lambda invocations per run   ${perRun(invocations)} ${JSON.stringify(Object.fromEntries(Object.entries(byFunction).map(([k, s]) => [k, s.invocations])))}`);
  say(`Lambda retries / discarded   ${Object.values(stats).reduce((a, s) => a + s.retries, 0)} / ${discarded.length}`);
  say(`avg Lambda duration          ${Math.round(totalMs / Math.max(1, totalN))} ms ${JSON.stringify(Object.fromEntries([...durations].map(([k, d]) => [k, Math.round(d.ms / d.n)])))}`);
  const byOperation = Object.fromEntries(Object.entries(capacity.byOperation).map(([op, n]) => [op, perRun(n)]));
  say(`DynamoDB per run             ${perRun(capacity.wcu)} WCU (${perRun(capacity.writes)} writes, ${perRun(capacity.failedConditionalWrites)} failed conditional), ${perRun(capacity.rcu)} RCU (${perRun(capacity.reads)} reads); requests by operation ${JSON.stringify(byOperation)}`);
  say(`deferred submissions         ${deferred} runs had their SubmitJob slot handed to a one-time schedule (slot beyond the fire invocation's budget)`);
  say(`throttling retries absorbed  ${throttled} TooManyRequestsException answers to SubmitJob (${(throttled / Math.max(1, jobs.length)).toFixed(1)} per job)`);
  say(`event faults                 ${counters['event:duplicated'] ?? 0} duplicated, ${counters['event:reordered'] ?? 0} reordered`);
  if (warnings.length) say(`stack warnings               ${warnings.length} (first: ${warnings[0]})`);
  say('');
  const usage = {
    invocations: invocations / N,
    avgDurationMs: totalMs / Math.max(1, totalN),
    memoryMb: SERVERLESS_YML.memorySizeMb,
    writeUnits: capacity.wcu / N,
    readUnits: capacity.rcu / N,
    schedulerInvocations: 1,
  };
  // Durations here include waiting on one overloaded DynamoDB Local; `npm run bench:cost` measures them uncontended.
  const cost = costReport(`measured in this spike, ${values.projections} index projections, durations inflated by the local DynamoDB queue`, usage);
  for (const line of cost.lines) say(line);

  if (duplicateJobs > 0 || lostRuns > 0) exitCode = 1;
  console.log(
    JSON.stringify({
      bench: 'spike',
      schedules: N,
      tps: T,
      duplicateRate: dup,
      reorderRate: reorder,
      runs: runsCreated,
      runsSucceeded: succeededRuns.length,
      jobsSubmitted: jobs.length,
      distinctJobNames: names_.size,
      duplicateJobs,
      lostRuns,
      drainSeconds: drainSeconds === null ? null : Math.round(drainSeconds * 10) / 10,
      floorSeconds,
      drainRatio: drainSeconds === null ? null : Math.round((drainSeconds / floorSeconds) * 1000) / 1000,
      fireToSubmitP50Seconds: Math.round(percentile(latencies, 0.5)) / 1000,
      fireToSubmitP99Seconds: Math.round(percentile(latencies, 0.99)) / 1000,
      invocationsPerRun: perRun(invocations),
      invocationsByFunction: Object.fromEntries(Object.entries(byFunction).map(([k, s]) => [k, s.invocations])),
      lambdaRetries: Object.values(stats).reduce((a, s) => a + s.retries, 0),
      lambdaDiscarded: discarded.length,
      avgDurationMs: Math.round(usage.avgDurationMs),
      writeUnitsPerRun: perRun(capacity.wcu),
      readUnitsPerRun: perRun(capacity.rcu),
      dynamodbRequestsPerRunByOperation: byOperation,
      throttlesAbsorbed: throttled,
      submitRate,
      submissionsDeferred: deferred,
      warmupRequests,
      eventsDuplicated: counters['event:duplicated'] ?? 0,
      eventsReordered: counters['event:reordered'] ?? 0,
      costPerMillionRunsUsd: cost.batchron.total,
      stepFunctionsCostPerMillionRunsUsd: cost.stepFunctions.total,
    }),
  );
  deploy.destroy();
} catch (error) {
  console.error(error);
  exitCode = 2;
} finally {
  await stack.stop({ graceMs: 500 }).catch((e: unknown) => console.error(e));
  await ddb.stop().catch((e: unknown) => console.error(e));
  if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
