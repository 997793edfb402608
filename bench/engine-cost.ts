/**
 * What one run costs the engine: DynamoDB write capacity units (every write asks for
 * ReturnConsumedCapacity TOTAL through a middleware on the functions' own client, so the
 * figures are what DynamoDB bills, as DynamoDB Local reports them) and Lambda invocations,
 * per successful single-task run, per run that needs one retry, and per failed run (with its
 * Slack message). Runs the real handlers on the local stack.
 *
 *   npm run bench:cost [-- --runs 5] [--projections narrow|all]
 *
 * The last line is one JSON object with the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from '#local/stack';
import { awsClients } from '#test/helpers/aws';
import { definition, deployEngine, fire, retry, task } from '#test/helpers/engine';
import { dynamodb } from '#shared/clients/dynamodb';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, projections: { type: 'string', default: 'narrow' } } });
const runs = Math.max(1, Number(values.runs));
// `narrow`: GSI1 INCLUDE (run summary fields) + active index KEYS_ONLY, what the engine needs;
// `all`: both indexes projecting ALL.
const projections = values.projections === 'all' ? 'all' : 'narrow';

interface Counter {
  wcu: number;
  writes: number;
  failedConditionalWrites: number;
}
const counter: Counter = { wcu: 0, writes: 0, failedConditionalWrites: 0 };
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

type Capacity = { CapacityUnits?: number; WriteCapacityUnits?: number };
dynamodb.middlewareStack.add(
  (next, context) => async (args) => {
    if (!WRITES.has(context.commandName ?? '')) return next(args);
    const input = args.input as Record<string, unknown>;
    input.ReturnConsumedCapacity = 'TOTAL';
    counter.writes += 1;
    try {
      const out = await next(args);
      const consumed = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
      for (const c of [consumed ?? []].flat()) counter.wcu += c.WriteCapacityUnits ?? c.CapacityUnits ?? 0;
      if (process.env.BENCH_DEBUG) console.log('write', context.commandName, JSON.stringify(consumed));
      return out;
    } catch (error) {
      // A failed conditional write is billed (at least 1 WCU) but reports no capacity.
      if ((error as { name?: string }).name?.includes('Conditional') || (error as { name?: string }).name === 'TransactionCanceledException') {
        counter.failedConditionalWrites += 1;
        counter.wcu += 1;
      }
      throw error;
    }
  },
  { step: 'initialize', name: 'batchronConsumedCapacity' },
);

const dataDir = mkdtempSync(join(tmpdir(), 'batchron-bench-cost-'));
const stack = await startLocalStack({ port: 0, dataDir, transitionDelayMs: 5, killGraceMs: 500, lambdaRetryDelaysMs: [1_000, 2_000], log: () => undefined });
const clients = awsClients(stack.url);
const engine = await deployEngine(stack, clients, { projections });
let invocations = 0;
const byFunction = new Map<string, number>();
stack.lambda.onInvoke((r) => {
  invocations += 1;
  byFunction.set(r.name.replace(`${engine.deployment}-`, ''), (byFunction.get(r.name.replace(`${engine.deployment}-`, '')) ?? 0) + 1);
});

function reset(): void {
  counter.wcu = 0;
  counter.writes = 0;
  counter.failedConditionalWrites = 0;
  invocations = 0;
  byFunction.clear();
}

interface Sample {
  wcu: number;
  writes: number;
  invocations: number;
  byFunction: Record<string, number>;
}

async function measure(label: string, n: number, once: (i: number) => Promise<void>): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    reset();
    await once(i);
    await stack.idle();
    samples.push({ wcu: counter.wcu, writes: counter.writes, invocations, byFunction: Object.fromEntries(byFunction) });
  }
  const avg = (f: (s: Sample) => number) => Math.round((samples.reduce((a, s) => a + f(s), 0) / samples.length) * 100) / 100;
  const result = { wcu: avg((s) => s.wcu), writes: avg((s) => s.writes), invocations: avg((s) => s.invocations), byFunction: samples.at(-1)!.byFunction };
  console.log(`${label.padEnd(34)} ${String(result.wcu).padStart(6)} WCU  ${String(result.writes).padStart(5)} writes  ${String(result.invocations).padStart(4)} invocations  ${JSON.stringify(result.byFunction)}`);
  return result;
}

const hour = (i: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, 0) + i * 3_600_000).toISOString();
try {
  console.log(`engine cost per run, averaged over ${runs} run(s) each; index projections: ${projections} (DynamoDB Local capacity accounting, local Lambda runtime)`);
  const single = await measure('successful single-task run', runs, async (i) => {
    const def = definition('bench-ok', [task('main', 'exit 0')]);
    await stack.lambda.invokeAsync(engine.arns.fire, fire(def, hour(i)));
    await engine.waitRun(`bench-ok.${hour(i).replace(/[-:]/g, '').replace('.000Z', 'Z')}`, (r) => r.finalized, 'the run to end', 60_000);
  });
  const retried = await measure('run succeeding on its 2nd attempt', runs, async (i) => {
    const def = definition('bench-retry', [task('main', '[ "$BATCHRON_ATTEMPT" -ge 2 ] || exit 3', { retry: retry(2, 30) })]);
    const runId = `bench-retry.${hour(i).replace(/[-:]/g, '').replace('.000Z', 'Z')}`;
    await stack.lambda.invokeAsync(engine.arns.fire, fire(def, hour(i)));
    await engine.waitRun(runId, (r) => r.tasks.main!.status === 'RETRY_WAIT', 'the retry wait', 60_000);
    await stack.idle();
    stack.clock.advance(31_000);
    await engine.waitRun(runId, (r) => r.finalized, 'the run to end', 60_000);
  });
  const failed = await measure('failed run (1 attempt, Slack)', runs, async (i) => {
    const def = definition('bench-fail', [task('main', 'exit 3')]);
    const runId = `bench-fail.${hour(i).replace(/[-:]/g, '').replace('.000Z', 'Z')}`;
    await stack.lambda.invokeAsync(engine.arns.fire, fire(def, hour(i)));
    await engine.waitRun(runId, (r) => r.finalized, 'the run to end', 60_000);
  });
  console.log('note: WCU include GSI writes only as far as DynamoDB Local reports them; on AWS each projected index update adds its own write units.');
  console.log(JSON.stringify({ bench: 'engine-cost', runs, projections, singleTaskRun: single, retriedRun: retried, failedRun: failed }));
} finally {
  await engine.undeploy();
  await stack.stop({ graceMs: 500 });
  clients.batch.destroy();
  clients.scheduler.destroy();
  clients.dynamodb.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
