/**
 * What a million runs cost at published AWS prices (us-east-1, on-demand, free tiers left
 * out: at a million runs a month they are a rounding error for Lambda and DynamoDB and would
 * flatter Scheduler), from figures a benchmark measured: Lambda invocations and their
 * average duration, DynamoDB read and write request units, Scheduler invocations. Beside it,
 * the same single-task workflow on Step Functions Standard, whose state transitions are
 * counted explicitly below.
 *
 * Prices change: each constant carries the date it was read and the page it was read from.
 * AWS Batch itself (Fargate vCPU/GB-seconds of the job) is the same on both sides and left out.
 */

/** Prices read on 2026-06 (us-east-1). */
export const PRICES = {
  /** https://aws.amazon.com/lambda/pricing/ : Requests, $0.20 per 1M (x86 and Arm alike). */
  lambdaPerMillionRequests: 0.2,
  /** https://aws.amazon.com/lambda/pricing/ : Arm price, first 7.5 billion GB-seconds a month. */
  lambdaArmPerGbSecond: 0.0000133334,
  /**
   * https://aws.amazon.com/dynamodb/pricing/on-demand/ : write request units, $0.625 per million
   * (Standard table class, after the November 2024 on-demand price cut).
   */
  dynamodbPerMillionWriteUnits: 0.625,
  /** https://aws.amazon.com/dynamodb/pricing/on-demand/ : read request units, $0.125 per million. */
  dynamodbPerMillionReadUnits: 0.125,
  /** https://aws.amazon.com/eventbridge/pricing/ : Scheduler, $1.00 per million invocations (after 14M free a month). */
  schedulerPerMillionInvocations: 1.0,
  /**
   * https://aws.amazon.com/eventbridge/pricing/ : custom and partner events $1.00 per million;
   * events AWS services publish to the default bus (Batch Job State Change) are free.
   */
  eventBridgeCustomPerMillionEvents: 1.0,
  eventBridgeAwsServiceEventsPerMillion: 0,
  /** https://aws.amazon.com/step-functions/pricing/ : Standard workflows, $0.025 per 1,000 state transitions. */
  stepFunctionsStandardPerThousandTransitions: 0.025,
} as const;

/** What one run used, as measured. */
export interface RunUsage {
  /** Lambda invocations per run (all functions). */
  invocations: number;
  /** Average billed duration of those invocations, in ms (Lambda bills per ms). */
  avgDurationMs: number;
  /** Configured memory of the functions, in MB (serverless.yml: 512). */
  memoryMb: number;
  /** DynamoDB write request units per run. */
  writeUnits: number;
  /** DynamoDB read request units per run. */
  readUnits: number;
  /** Scheduler invocations per run (1: the fire; a retry adds one). */
  schedulerInvocations: number;
  /** Custom (billable) EventBridge events per run; Batch's own state-change events are free. */
  customEvents?: number;
}

export interface CostLine {
  item: string;
  /** USD per million runs. */
  usd: number;
}

export interface CostEstimate {
  lines: CostLine[];
  /** USD per million runs. */
  total: number;
}

const round = (usd: number) => Math.round(usd * 100) / 100;

/** USD per million runs of Batchron with the measured usage. */
export function batchronCost(u: RunUsage): CostEstimate {
  const gbSeconds = u.invocations * (u.avgDurationMs / 1000) * (u.memoryMb / 1024);
  const lines: CostLine[] = [
    { item: `Lambda requests (${fmt(u.invocations)}/run)`, usd: u.invocations * PRICES.lambdaPerMillionRequests },
    {
      item: `Lambda duration arm64 (${fmt(gbSeconds, 4)} GB-s/run: ${fmt(u.avgDurationMs, 0)} ms avg x ${u.memoryMb} MB)`,
      usd: gbSeconds * 1e6 * PRICES.lambdaArmPerGbSecond,
    },
    { item: `DynamoDB writes (${fmt(u.writeUnits)} WRU/run)`, usd: u.writeUnits * PRICES.dynamodbPerMillionWriteUnits },
    { item: `DynamoDB reads (${fmt(u.readUnits)} RRU/run)`, usd: u.readUnits * PRICES.dynamodbPerMillionReadUnits },
    { item: `EventBridge Scheduler (${fmt(u.schedulerInvocations)} invocation/run)`, usd: u.schedulerInvocations * PRICES.schedulerPerMillionInvocations },
    {
      item: 'EventBridge events (Batch Job State Change on the default bus: AWS service events, free)',
      usd: (u.customEvents ?? 0) * PRICES.eventBridgeCustomPerMillionEvents,
    },
  ];
  return total(lines);
}

/**
 * The same single-task run on Step Functions Standard, started by Scheduler directly
 * (StartExecution target, no Lambda):
 *
 *   RecordRun (DynamoDB PutItem) → RunJob (Batch SubmitJob .sync) → UpdateRun (DynamoDB UpdateItem) → end
 *
 * Standard bills one transition per state entered: 3. The .sync wait for the job is not a
 * transition. Its DynamoDB writes are the two item writes, each also updating the same two
 * indexes Batchron's table has (3 WRU each for an item under 1 KB): 6 WRU. No reads. Retries,
 * failure branches and notifications would add transitions; a single-task success has none.
 */
export const STEP_FUNCTIONS_WORKFLOW = {
  states: ['RecordRun', 'RunJob', 'UpdateRun'],
  transitionsPerRun: 3,
  writeUnitsPerRun: 6,
  schedulerInvocationsPerRun: 1,
} as const;

/** USD per million runs of the Step Functions Standard equivalent. */
export function stepFunctionsCost(w: { transitionsPerRun: number; writeUnitsPerRun: number; schedulerInvocationsPerRun: number } = STEP_FUNCTIONS_WORKFLOW): CostEstimate {
  return total([
    {
      item: `Step Functions Standard (${w.transitionsPerRun} state transitions/run: ${STEP_FUNCTIONS_WORKFLOW.states.join(' → ')})`,
      usd: w.transitionsPerRun * 1000 * PRICES.stepFunctionsStandardPerThousandTransitions,
    },
    { item: `DynamoDB writes (${w.writeUnitsPerRun} WRU/run)`, usd: w.writeUnitsPerRun * PRICES.dynamodbPerMillionWriteUnits },
    { item: `EventBridge Scheduler (${w.schedulerInvocationsPerRun} invocation/run)`, usd: w.schedulerInvocationsPerRun * PRICES.schedulerPerMillionInvocations },
  ]);
}

/** Printable lines: both estimates side by side, and their ratio. */
export function costReport(label: string, usage: RunUsage): { lines: string[]; batchron: CostEstimate; stepFunctions: CostEstimate } {
  const batchron = batchronCost(usage);
  const stepFunctions = stepFunctionsCost();
  const out = [`cost per million single-task runs (${label}; us-east-1 on-demand prices read 2026-06, free tiers excluded, Batch compute excluded):`];
  out.push('  Batchron:');
  for (const l of batchron.lines) out.push(`    ${l.item.padEnd(96)} $${l.usd.toFixed(2).padStart(8)}`);
  out.push(`    ${'total'.padEnd(96)} $${batchron.total.toFixed(2).padStart(8)}`);
  out.push('  Step Functions Standard, same workflow:');
  for (const l of stepFunctions.lines) out.push(`    ${l.item.padEnd(96)} $${l.usd.toFixed(2).padStart(8)}`);
  out.push(`    ${'total'.padEnd(96)} $${stepFunctions.total.toFixed(2).padStart(8)}`);
  out.push(`  Step Functions Standard / Batchron: ${(stepFunctions.total / batchron.total).toFixed(1)}x`);
  return { lines: out, batchron, stepFunctions };
}

function total(lines: CostLine[]): CostEstimate {
  const rounded = lines.map((l) => ({ item: l.item, usd: round(l.usd) }));
  return { lines: rounded, total: round(lines.reduce((a, l) => a + l.usd, 0)) };
}

function fmt(n: number, digits = 2): string {
  return String(Math.round(n * 10 ** digits) / 10 ** digits);
}
