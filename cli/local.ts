/**
 * `batchron local`: runs the local AWS stack alone (Batch, EventBridge Scheduler,
 * DynamoDB, Lambda, the event bus) on one port, prints how to point the AWS CLI and SDKs
 * at it, shows what happens (fires, job status changes, failed invocations) and stops
 * cleanly on Ctrl-C: running jobs get SIGTERM, then SIGKILL after the grace period, and
 * end FAILED with a reason saying so. A second Ctrl-C stops at once.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { line, nonNegative, port, runUntilSignal } from '#cli/lifecycle';
import pc from 'picocolors';
import { DEFAULT_PORT } from '#local/contracts';
import type { LocalStack } from '#local/stack';

interface LocalOptions {
  port: number;
  host: string;
  dataDir: string;
  projectDir: string;
  grace: number;
  dynamodbEndpoint?: string;
  quiet?: boolean;
  allowedHosts?: string;
}

/** Registers `local`. */
export function localCommand(): Command {
  return new Command('local')
    .description('run the local AWS stack (Batch, Scheduler, DynamoDB, Lambda, EventBridge) on one endpoint')
    .addOption(new Option('-p, --port <port>', 'port of the AWS endpoint (0 picks a free one)').default(DEFAULT_PORT).argParser(port))
    .addOption(new Option('--host <host>', 'loopback address to listen on (127.0.0.1, ::1 or localhost)').default('127.0.0.1'))
    .addOption(
      new Option('--allowed-hosts <names>', 'comma-separated host names requests may be addressed to besides localhost/127.0.0.1/[::1] (.example.test: it and its subdomains)').env(
        'BATCHRON_ALLOWED_HOSTS',
      ),
    )
    .addOption(new Option('--data-dir <dir>', 'where state, job logs and DynamoDB data are kept').default('.batchron'))
    .addOption(new Option('--project-dir <dir>', 'working directory of job processes').default('.'))
    .addOption(new Option('--grace <ms>', 'how long stopped jobs get between SIGTERM and SIGKILL').default(5_000).argParser(nonNegative))
    .option('--dynamodb-endpoint <url>', 'use this running DynamoDB Local instead of starting one')
    .option('-q, --quiet', 'print only the endpoint and environment, not the live activity')
    .action(async (opts: LocalOptions) => {
      process.exitCode = await runLocal(opts);
    });
}

async function runLocal(opts: LocalOptions): Promise<number> {
  // Loaded only when `local` runs, so other commands and `--help` stay quick.
  const [{ startLocalStack }, { DynamoDBLocalError }, guard] = await Promise.all([
    import('#local/stack'),
    import('#local/dynamodb'),
    import('#local/guard'),
  ]);
  const dataDir = resolve(opts.dataDir);
  let allowedHosts: string[];
  try {
    guard.assertLoopbackBind(opts.host);
    allowedHosts = guard.parseAllowedHosts(opts.allowedHosts);
  } catch (error) {
    console.error(pc.red(`batchron local: ${error instanceof Error ? error.message : String(error)}`));
    return 2;
  }
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      command: 'batchron local',
      port: opts.port,
      host: opts.host,
      allowedHosts,
      dataDir,
      projectDir: resolve(opts.projectDir),
      killGraceMs: opts.grace,
      dynamodb: opts.dynamodbEndpoint ? { endpoint: opts.dynamodbEndpoint } : 'spawn',
      log: (line) => console.warn(pc.yellow(line)),
      ...(opts.quiet
        ? {}
        : {
            onFire: (f) =>
              line(
                `${f.ok ? pc.green('fired') : pc.red('fire failed')} ${f.group}/${f.name} @ ${f.scheduledTime.toISOString()} -> ${f.targetArn}` +
                  `${f.attempt > 1 ? ` (attempt ${f.attempt})` : ''}${f.error ? `: ${f.error}` : ''}`,
              ),
          }),
    });
  } catch (error) {
    console.error(pc.red(`batchron local: ${error instanceof DynamoDBLocalError ? error.message : startFailure(error, opts)}`));
    return 1;
  }

  stack.scheduler.markRunning();
  printBanner(stack, dataDir, opts.grace);
  if (!opts.quiet) watch(stack);

  await runUntilSignal({
    command: 'local',
    graceMs: opts.grace,
    stop: () => stack.stop({ graceMs: opts.grace }),
    stopped: `Stopped; state kept in ${dataDir}`,
  });
  return 0;
}

function printBanner(stack: LocalStack, dataDir: string, graceMs: number): void {
  const env = stack.env();
  const out = [
    `${pc.bold('Batchron local stack')} is up at ${pc.cyan(stack.url)}`,
    `  Batch, EventBridge Scheduler, DynamoDB, Lambda and EventBridge on one endpoint; data in ${dataDir}`,
    '',
    'Point the AWS CLI and SDKs at it:',
    ...Object.entries(env).map(([k, v]) => `  export ${k}=${v}`),
    '',
    `Control API: ${stack.url}/_batchron/health  (clock, faults, job kill; send "Authorization: Bearer <token>" with the token in ${dataDir}/api-token)`,
  ];
  if (stack.missedFires.length > 0) {
    out.push('', pc.yellow(`${stack.missedFires.length} schedule fire(s) fell due while the stack was stopped (not run):`));
    for (const m of stack.missedFires.slice(0, 20)) out.push(`  ${m.group}/${m.name} @ ${m.scheduledTime.toISOString()}`);
    if (stack.missedFires.length > 20) out.push(`  ... and ${stack.missedFires.length - 20} more`);
  }
  out.push('', pc.dim(`Ctrl-C stops it: running jobs get SIGTERM, then SIGKILL after ${graceMs} ms.`));
  console.log(out.join('\n'));
}

/** Live activity: job status changes, failed Lambda attempts and bus faults. */
function watch(stack: LocalStack): void {
  stack.bus.onEvent((a) => {
    if (a.kind === 'published' && a.event.source === 'aws.batch') {
      const d = a.event.detail as { jobName?: string; jobId?: string; status?: string; statusReason?: string };
      const colour = d.status === 'FAILED' ? pc.red : d.status === 'SUCCEEDED' ? pc.green : pc.blue;
      line(`job ${d.jobName} (${d.jobId}) ${colour(d.status ?? '?')}${d.statusReason ? `: ${d.statusReason}` : ''}`);
    } else if (a.kind === 'dropped' || a.kind === 'failed') {
      line(pc.yellow(`event ${a.kind} for rule ${a.rule} target ${a.targetId}${a.kind === 'failed' ? `: ${a.error}` : ''}`));
    }
  });
  stack.lambda.onInvoke((r) => {
    if (!r.ok) line(pc.red(`lambda ${r.name} attempt ${r.attempt} failed: ${r.error}${r.willRetry ? ' (will retry)' : ''}`));
  });
  stack.lambda.onDiscard((d) => line(pc.red(`lambda ${d.name} gave up on event ${d.requestId}: ${d.reason}`)));
}


function startFailure(error: unknown, opts: LocalOptions): string {
  if ((error as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    return `port ${opts.port} on ${opts.host} is already in use (another batchron local or LocalStack?); pass --port <n>`;
  }
  return error instanceof Error ? error.message : String(error);
}


