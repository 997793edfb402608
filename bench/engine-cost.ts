/**
 * What one run costs the engine: DynamoDB write capacity units (every write asks for
 * ReturnConsumedCapacity TOTAL through a middleware on the functions' own client, so the
 * figures are what DynamoDB bills, as DynamoDB Local reports them) and Lambda invocations,
 * per successful single-task run, per run that needs one retry, and per failed run (with its
 * Slack message). Runs the real handlers on the local stack.
 *
 *   npm run bench:cost [-- --runs 5] [--projections narrow|all] [--job-seconds 5]
 *
 * Each job lasts `--job-seconds` (default 5, the shortest job of the reference workload): a
 * job that ends before its RUNNING event is handled makes its two job-events invocations race
 * for the run, and the loser pays one failed conditional write (1 unit) before re-applying.
 * `--job-seconds 0` measures that race. After each kind of run the script lists its writes:
 * the function that made each, the item, its size and its write units (index units beside).
 * The runs of one kind share one definition, so only the first writes its definition item
 * (`DEF#<hash>`, once per definition version): the script prints that run's and the later
 * runs' write units beside the average, and the first run's definition write after the list.
 *
 * The last line is one JSON object with the figures.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from '#local/stack';
import type { LocalHandler } from '#local/lambda';
import { awsClients } from '#test/helpers/aws';
import { definition, deployEngine, fire, retry, task } from '#test/helpers/engine';
import { dynamodb } from '#shared/clients/dynamodb';
import { costReport } from './cost-model.ts';
import { countCapacity, resetCapacity } from './lib/spike-capacity.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, projections: { type: 'string', default: 'narrow' }, 'job-seconds': { type: 'string', default: '5' } },
});
const runs = Math.max(1, Number(values.runs));
const jobSeconds = Math.max(0, Number(values['job-seconds']));
/** A job's script: `then` after the job's length. */
const job = (then: string) => (jobSeconds > 0 ? `sleep ${jobSeconds}; ${then}` : then);
// `narrow`: GSI1 INCLUDE (run summary fields) + active index KEYS_ONLY, what the engine needs;
// `all`: both indexes projecting ALL.
const projections = values.projections === 'all' ? 'all' : 'narrow';

// The same accounting as bench/spike.ts: writes and reads of the functions' own client, each
// write labelled with the function whose invocation made it.
const invocation = new AsyncLocalStorage<string>();
const counter = countCapacity(dynamodb, 'batchronConsumedCapacity', () => invocation.getStore());

const dataDir = mkdtempSync(join(tmpdir(), 'batchron-bench-cost-'));
const stack = await startLocalStack({ port: 0, dataDir, transitionDelayMs: 5, killGraceMs: 500, lambdaRetryDelaysMs: [1_000, 2_000], log: () => undefined });
const clients = awsClients(stack.url);
const engine = await deployEngine(stack, clients, { projections });
// The same handlers, each run inside its function's name (deployEngine registered them with these options).
for (const [name, module] of [
  ['fire', await import('#functions/fire')],
  ['job-events', await import('#functions/job-events')],
  ['retry', await import('#functions/retry')],
] as const) {
  const real = module.handlerFor(engine.runtime) as unknown as LocalHandler;
  const handler: LocalHandler = (event, context, callback) => invocation.run(name, () => real(event, context, callback));
  stack.lambda.register(`${engine.deployment}-${name}`, handler, { timeoutMs: 60_000 });
}
let invocations = 0;
let durationMs = 0;
const byFunction = new Map<string, number>();
stack.lambda.onInvoke((r) => {
  invocations += 1;
  durationMs += Math.ceil(r.durationMs);
  const name = r.name.replace(`${engine.deployment}-`, '');
  byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
});

function reset(): void {
  resetCapacity(counter);
  invocations = 0;
  durationMs = 0;
  byFunction.clear();
}

type Write = (typeof counter.log)[number];

function printWrite(w: Write): void {
  const size = w.bytes === undefined ? '' : `${w.bytes} B`;
  console.log(
    `  ${(w.who ?? '?').padEnd(11)} ${w.operation.padEnd(18)} ${w.keys.join(' + ').padEnd(64)} ${size.padStart(7)} ${String(w.wcu).padStart(4)} WCU${Object.keys(w.indexes).length ? ` (${Object.entries(w.indexes).map(([i, n]) => `${i} ${n}`).join(', ')})` : ''}${w.failed ? '  (condition failed)' : ''}`,
  );
}

/** The writes of each kind's first run (the first of its definition: the definition item is written then). */
let firstRunWrites: Write[] = [];

/**
 * Prints every write of the run just measured: the function that made it, the item, its size
 * and its write units; then what the first run of the same definition wrote beyond that (its
 * definition item, `DEF#<hash>`, written once per definition version).
 */
function printWrites(label: string): void {
  console.log(`writes of the last ${label}:`);
  for (const w of counter.log) printWrite(w);
  const once = firstRunWrites.filter((w) => w.keys.some((k) => k.startsWith('DEF#')));
  if (once.length > 0) {
    console.log(`  and only in the first run of its definition:`);
    for (const w of once) printWrite(w);
  }
}

interface Sample {
  wcu: number;
  writes: number;
  rcu: number;
  invocations: number;
  /** Average Lambda duration of the run's invocations, real ms (the handlers run warm, in process). */
  avgDurationMs: number;
  byFunction: Record<string, number>;
}

async function measure(label: string, n: number, once: (i: number) => Promise<void>): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    reset();
    await once(i);
    await stack.idle();
    samples.push({
      wcu: counter.wcu,
      writes: counter.writes,
      rcu: counter.rcu,
      invocations,
      avgDurationMs: invocations ? durationMs / invocations : 0,
      byFunction: Object.fromEntries(byFunction),
    });
    if (i === 0) firstRunWrites = [...counter.log];
  }
  const avg = (f: (s: Sample) => number) => Math.round((samples.reduce((a, s) => a + f(s), 0) / samples.length) * 100) / 100;
  const result = {
    wcu: avg((s) => s.wcu),
    writes: avg((s) => s.writes),
    rcu: avg((s) => s.rcu),
    invocations: avg((s) => s.invocations),
    avgDurationMs: avg((s) => s.avgDurationMs),
    byFunction: samples.at(-1)!.byFunction,
  };
  console.log(
    `${label.padEnd(34)} ${String(result.wcu).padStart(6)} WCU  ${String(result.writes).padStart(5)} writes  ${String(result.rcu).padStart(5)} RCU  ` +
      `${String(result.invocations).padStart(4)} invocations (${Math.round(result.avgDurationMs)} ms avg)  ${JSON.stringify(result.byFunction)}`,
  );
  if (samples.length > 1) {
    const later = Math.round((samples.slice(1).reduce((a, s) => a + s.wcu, 0) / (samples.length - 1)) * 100) / 100;
    console.log(`${''.padEnd(34)} (the first run of the definition ${samples[0]!.wcu} WCU, each later run ${later} WCU)`);
  }
  return result;
}

const hour = (i: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, 0) + i * 3_600_000).toISOString();
try {
  console.log(`engine cost per run, averaged over ${runs} run(s) each, jobs of ${jobSeconds} s; index projections: ${projections} (DynamoDB Local capacity accounting, local Lambda runtime)`);
  const single = await measure('successful single-task run', runs, async (i) => {
    const def = definition('bench-ok', [task('main', job('exit 0'))]);
    await stack.lambda.invokeAsync(engine.arns.fire, fire(def, hour(i)));
    await engine.waitRun(`bench-ok.${hour(i).replace(/[-:]/g, '').replace('.000Z', 'Z')}`, (r) => r.finalized, 'the run to end', 60_000);
  });
  printWrites('successful single-task run');
  const retried = await measure('run succeeding on its 2nd attempt', runs, async (i) => {
    const def = definition('bench-retry', [task('main', job('[ "$BATCHRON_ATTEMPT" -ge 2 ] || exit 3'), { retry: retry(2, 30) })]);
    const runId = `bench-retry.${hour(i).replace(/[-:]/g, '').replace('.000Z', 'Z')}`;
    await stack.lambda.invokeAsync(engine.arns.fire, fire(def, hour(i)));
    await engine.waitRun(runId, (r) => r.tasks.main!.status === 'RETRY_WAIT', 'the retry wait', 60_000);
    await stack.idle();
    stack.clock.advance(31_000);
    await engine.waitRun(runId, (r) => r.finalized, 'the run to end', 60_000);
  });
  printWrites('run succeeding on its 2nd attempt');
  const failed = await measure('failed run (1 attempt, Slack)', runs, async (i) => {
    const def = definition('bench-fail', [task('main', job('exit 3'))]);
    const runId = `bench-fail.${hour(i).replace(/[-:]/g, '').replace('.000Z', 'Z')}`;
    await stack.lambda.invokeAsync(engine.arns.fire, fire(def, hour(i)));
    await engine.waitRun(runId, (r) => r.finalized, 'the run to end', 60_000);
  });
  printWrites('failed run');
  console.log('note: WCU include GSI writes only as far as DynamoDB Local reports them; on AWS each projected index update adds its own write units.');
  const cost = costReport(`single-task success measured above, ${projections} index projections`, {
    invocations: single.invocations,
    avgDurationMs: single.avgDurationMs,
    memoryMb: 512, // serverless.yml provider.memorySize
    writeUnits: single.wcu,
    readUnits: single.rcu,
    schedulerInvocations: 1,
  });
  for (const line of cost.lines) console.log(line);
  console.log(
    JSON.stringify({
      bench: 'engine-cost',
      runs,
      jobSeconds,
      projections,
      singleTaskRun: single,
      retriedRun: retried,
      failedRun: failed,
      costPerMillionSingleTaskRunsUsd: cost.batchron.total,
      stepFunctionsStandardCostPerMillionRunsUsd: cost.stepFunctions.total,
    }),
  );
} finally {
  await engine.undeploy();
  await stack.stop({ graceMs: 500 });
  clients.batch.destroy();
  clients.scheduler.destroy();
  clients.dynamodb.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
