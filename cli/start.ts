/**
 * `batchron start` (`npm start`): the whole product on one machine. It starts the local AWS
 * stack, deploys serverless.yml onto it as CloudFormation would (table, Batch, schedules,
 * rules, functions), serves the HTTP API on :3000, and shows what happens: schedules
 * firing, runs and tasks changing state, retries waiting, with durations.
 *
 * Ctrl-C stops it cleanly (jobs get SIGTERM, then SIGKILL after the grace period, and end
 * FAILED as a lost host would; the retry policy decides what happens next). The next start
 * resumes from `.batchron/` and lists the fires it missed while stopped.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startsOn } from '#shared/config/dependencies';
import { configWarnings } from '#shared/config/warnings';
import { Command, Option } from 'commander';
import { line, nonNegative, port, runUntilSignal } from '#cli/lifecycle';
import { missedFireSummaries } from '#cli/missed';
import { visible } from '#cli/sanitize';
import pc from 'picocolors';
import { DEFAULT_PORT, type EventBridgeEvent } from '#local/contracts';
import type { LocalStack } from '#local/stack';
import type { LocalDeployment } from '#local/deploy';
import type { HttpApi } from '#local/http-api';
import type { FireReport } from '#local/scheduler/index';
import type { StoreDeps } from '#shared/store/index';
import type { RunItem } from '#shared/store/schema';

/** The HTTP API's default port (kept here so `--help` loads none of the stack). */
const DEFAULT_HTTP_API_PORT = 3000;

interface StartOptions {
  port: number;
  apiPort: number;
  dataDir: string;
  projectDir: string;
  stage: string;
  grace: number;
  verbose?: boolean;
  /** False with --no-sample-event. */
  sampleEvent?: boolean;
  allowedHosts?: string;
}

/** Registers `start`. */
export function startCommand(): Command {
  return new Command('start')
    .description('run Batchron offline: the local AWS stack, serverless.yml deployed onto it, and the HTTP API')
    .addOption(new Option('-p, --port <port>', 'port of the local AWS endpoint').default(DEFAULT_PORT).argParser(port))
    .addOption(new Option('--api-port <port>', 'port of the HTTP API').default(DEFAULT_HTTP_API_PORT).argParser(port))
    .addOption(new Option('--data-dir <dir>', 'where runs, job logs, the API token and DynamoDB data are kept').default('.batchron'))
    .addOption(new Option('--project-dir <dir>', 'the folder with serverless.yml').default('.'))
    .addOption(new Option('-s, --stage <stage>', 'the serverless.yml stage to deploy').default('dev'))
    .addOption(new Option('--grace <ms>', 'how long stopped jobs get between SIGTERM and SIGKILL').default(5_000).argParser(nonNegative))
    .addOption(
      new Option('--allowed-hosts <names>', 'comma-separated host names requests may be addressed to besides localhost/127.0.0.1/[::1] (.example.test: it and its subdomains)').env(
        'BATCHRON_ALLOWED_HOSTS',
      ),
    )
    .option('-v, --verbose', 'also print every Batch job event and the functions\' JSON logs')
    .option('--no-sample-event', 'do not publish the sample S3 upload (events/s3/object-created.json) a few seconds after start')
    .action(async (opts: StartOptions) => {
      process.exitCode = await runStart(opts);
    });
}

async function runStart(opts: StartOptions): Promise<number> {
  // The functions run in this process and log JSON for CloudWatch; the live view below tells
  // the story for people, so only their warnings and errors come through unless --verbose.
  // Set before anything below loads the shared logger and metrics (they read it when built).
  process.env.POWERTOOLS_LOG_LEVEL ??= opts.verbose ? 'INFO' : 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= opts.verbose ? 'false' : 'true';
  // The stack, the deploy and the engine load only when `start` runs, so the other CLI
  // commands (and `--help`) stay quick.
  const [{ startLocalStack }, { DynamoDBLocalError }, { deployLocal }, { startHttpApi }, { ConfigError, LocalSeedError, YamlSyntaxError }, store, ddb, lib, naming, guard, { deadlineView }] =
    await Promise.all([
      import('#local/stack'),
      import('#local/dynamodb'),
      import('#local/deploy'),
      import('#local/http-api'),
      import('#shared/errors'),
      import('#shared/store/index'),
      import('@aws-sdk/client-dynamodb'),
      import('@aws-sdk/lib-dynamodb'),
      import('#shared/engine/naming'),
      import('#local/guard'),
      import('#shared/engine/deadline'),
    ]);
  const startFailure = (error: unknown, portNumber: number): string => {
    if (error instanceof DynamoDBLocalError) return error.message;
    if ((error as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
      return `port ${portNumber} is already in use (is another \`npm start\` running?); pass --port / --api-port`;
    }
    return error instanceof Error ? error.message : String(error);
  };
  const projectDir = resolve(opts.projectDir);
  const dataDir = resolve(projectDir, opts.dataDir);
  let allowedHosts: string[];
  try {
    allowedHosts = guard.parseAllowedHosts(opts.allowedHosts);
  } catch (error) {
    console.error(pc.red(`batchron start: ${error instanceof Error ? error.message : String(error)}`));
    return 2;
  }

  const view = new LiveView(store, ddb.DynamoDBClient, lib.DynamoDBDocumentClient, naming.runIdFor);
  step('starting the local AWS stack (DynamoDB Local takes a few seconds)');
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      command: 'batchron start',
      port: opts.port,
      allowedHosts,
      dataDir,
      projectDir,
      killGraceMs: opts.grace,
      dynamodb: 'spawn',
      onFire: (f) => view.fire(f),
      log: (text) => line(pc.yellow(text)),
    });
  } catch (error) {
    console.error(pc.red(`batchron start: ${startFailure(error, opts.port)}`));
    return 1;
  }

  let deployment: LocalDeployment;
  let api: HttpApi;
  try {
    step('deploying serverless.yml onto it');
    deployment = await deployLocal(stack, { projectDir, stage: opts.stage });
    api = await startHttpApi({
      routes: deployment.routes,
      lambda: stack.lambda,
      dataDir,
      allowedHosts,
      port: opts.apiPort,
      now: () => stack.clock.now(),
      onError: (error, routeKey) => line(pc.red(`api ${routeKey} failed: ${error instanceof Error ? error.message : String(error)}`)),
    });
  } catch (error) {
    await stack.stop({ graceMs: opts.grace }).catch(() => undefined);
    if (error instanceof ConfigError) {
      console.error(pc.red(`batchron start: serverless.yml is not valid:\n${error.message}`));
      return 2;
    }
    if (error instanceof YamlSyntaxError || error instanceof LocalSeedError) {
      console.error(pc.red(`batchron start: ${error.message}`));
      return 2;
    }
    console.error(pc.red(`batchron start: ${startFailure(error, opts.apiPort)}`));
    return 1;
  }

  // Only a start that got this far moves the "last running" mark the next start's missed-fire report counts from.
  stack.scheduler.markRunning();
  printBanner(stack, deployment, api, dataDir, opts.grace, deadlineView);
  view.attach(stack, deployment, Boolean(opts.verbose));
  const sample = opts.sampleEvent === false ? undefined : scheduleSampleUpload(stack, deployment, projectDir);
  // One sweep now: jobs the last stop ended (their events held back, see LocalStack.stop)
  // are read from Batch and their retry policies decide, instead of up to a sweep period later.
  const sweepFn = deployment.functions.find((f) => f.key === 'sweep');
  if (sweepFn) void stack.lambda.invokeAsync(sweepFn.arn, {}).catch(() => undefined);

  await runUntilSignal({
    command: 'start',
    graceMs: opts.grace,
    stop: async () => {
      if (sample) clearTimeout(sample);
      view.detach();
      await api.close();
      await stack.stop({ graceMs: opts.grace });
    },
    stopped: `Stopped. Runs, logs and schedules are kept in ${dataDir}; \`npm start\` resumes from there.`,
  });
  return 0;
}

function printBanner(
  stack: LocalStack,
  d: LocalDeployment,
  api: HttpApi,
  dataDir: string,
  graceMs: number,
  deadlineView: typeof import('#shared/engine/deadline').deadlineView,
): void {
  const userSchedules = Object.values(d.definitions);
  const out = [
    '',
    `${pc.bold('Batchron')} is running offline (${d.deployment})`,
    // The one line that carries the token: the user asked for it, as Jupyter prints its URL.
    `  Dashboard     ${pc.cyan(api.dashboardUrl)}`,
    `  HTTP API      ${pc.cyan(api.url)}   token in ${api.tokenFile ?? '(fixed)'} (operator), viewer-token beside it (read only)`,
    `  AWS endpoint  ${pc.cyan(stack.url)}   (AWS_ENDPOINT_URL for the AWS CLI and SDKs)`,
    `  data          ${dataDir}`,
  ];
  // Names only: the values are secrets.
  if (d.seeded && d.seeded.created.length > 0) out.push(`  local seed    created ${d.seeded.created.join(', ')} (local-seed.yml; values not shown)`);
  // The stack creates the token on a first start (its control API takes it too); the HTTP API then reads it.
  if (api.tokenCreated || stack.tokenCreated) out.push(`  API token     ${api.token}   (new; kept in ${api.tokenFile})`);
  out.push('', `${userSchedules.length} schedule(s):`);
  for (const def of userSchedules) {
    const state = d.schedules.find((s) => s.name === def.name)?.state ?? 'ENABLED';
    // The schedule's own series, as the local Scheduler will fire it (a rate from its creation).
    const t = def.expression === undefined ? undefined : stack.scheduler.nextFire(d.scheduleGroup, def.name);
    const next = t ? `next ${t.toISOString()}` : def.expression === undefined ? '' : 'no more fires';
    out.push(`  ${pad(def.name, 22)} ${pad(startsOn(def), 28)} ${pad(def.timezone, 16)} ${state === 'ENABLED' ? next : pc.yellow(state)}`);
    if (def.deadline && def.expression !== undefined) {
      // The deadline's rule and the next one, as `npx batchron schedules` shows them.
      const view = deadlineView({ ...def, deadline: def.deadline }, { expression: def.expression, timezone: def.timezone }, stack.clock.now(), undefined);
      out.push(pc.dim(`  ${pad('', 22)} deadline ${view.rule}${view.next ? `; next ${view.next.atLocal}` : ''}`));
    }
  }
  for (const w of configWarnings(d.config)) out.push(pc.yellow(`  warning: ${w}`));
  if (d.removedSchedules.length > 0) {
    out.push(pc.dim(`  removed (no longer in serverless.yml; their runs are kept): ${d.removedSchedules.join(', ')}`));
  }
  // Every schedule that targets `fire`, declared or created through the API; not the sweeper's or the retries'.
  const fireArn = d.functions.find((f) => f.key === 'fire')?.arn;
  const missed = missedFireSummaries(stack.missedFires, d.scheduleGroup, fireArn);
  if (missed.length > 0) {
    const count = missed.reduce((n, m) => n + m.times.length, 0);
    out.push('', pc.yellow(`${count} fire(s) fell due while Batchron was stopped and did not run:`));
    for (const m of missed) {
      // Names of dynamic schedules come from the API: shown as text, never as terminal controls.
      out.push(`  ${visible(m.name)}: ${m.times.length} fire(s) from ${m.times[0]!.toISOString()}`);
      out.push(pc.dim(`    run them: ${visible(m.command)}`));
    }
  }
  out.push(
    '',
    pc.dim('Try: npx batchron schedules | npx batchron trigger every-minute --wait | npx batchron runs | npx batchron logs <run>'),
    pc.dim(`Ctrl-C stops it: running jobs get SIGTERM, then SIGKILL after ${graceMs} ms; no run fails and no Slack message goes out while stopping (the next start decides).`),
    '',
  );
  console.log(out.join('\n'));
}

/**
 * What a person watches: fires from the Scheduler, and run/task transitions read from the
 * same DynamoDB items the API serves (polled once a second over the active-runs index), so
 * the view shows the engine's decisions, not just raw Batch events.
 */
class LiveView {
  constructor(
    private readonly store: Pick<typeof import('#shared/store/index'), 'getRun' | 'listActiveRunIds'>,
    private readonly DynamoDBClient: typeof import('@aws-sdk/client-dynamodb').DynamoDBClient,
    private readonly DocumentClient: typeof import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient,
    private readonly runIdFor: typeof import('#shared/engine/naming').runIdFor,
  ) {}

  /** Runs of recent fires not yet seen, with the polls left to find them (the fire Lambda may not have written yet). */
  private readonly fired = new Map<string, number>();
  private early: FireReport[] = [];
  private timer: NodeJS.Timeout | undefined;
  private seen = new Map<string, string>();
  private deps: StoreDeps | undefined;
  private group = '';
  private polling = false;

  fire(f: FireReport): void {
    // Rate schedules fire as the deploy creates them, before the view knows its group.
    if (!this.group) {
      this.early.push(f);
      return;
    }
    if (f.group !== this.group) return;
    if (f.name.startsWith('_')) {
      // Batchron's own schedules (shared/engine/naming.ts): the sweeper, retries and deferrals.
      if (!f.ok) line(pc.red(`${f.targetArn.endsWith('-retry') ? 'retry' : 'sweep'} fire failed: ${visible(f.error ?? '')}`));
      return;
    }
    if (!f.ok) line(pc.red(`✖ fire     ${visible(f.name)} @ ${hms(f.scheduledTime)} failed (attempt ${f.attempt}): ${visible(f.error ?? '')}`));
    // A retry schedule's fire shows as the task's next attempt; its name says nothing to a person.
    else if (f.targetArn.endsWith('-retry')) return;
    else {
      line(`${pc.cyan('▶ fire')}     ${pc.bold(visible(f.name))} @ ${hms(f.scheduledTime)}`);
      // A fire the overlap policy skips (or a paused schedule) makes a run that is finished
      // at birth and never enters the active index: look it up by its deterministic id.
      this.fired.set(this.runIdFor({ schedule: f.name, scheduledTime: f.scheduledTime.toISOString() }), 10);
    }
  }

  attach(stack: LocalStack, d: LocalDeployment, verbose: boolean): void {
    this.group = d.scheduleGroup;
    for (const f of this.early.splice(0)) this.fire(f);
    const client = new this.DynamoDBClient({
      endpoint: stack.url,
      region: stack.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    this.deps = { doc: this.DocumentClient.from(client), table: d.table };
    if (verbose) {
      stack.bus.onEvent((a) => {
        if (a.kind !== 'published' || a.event.source !== 'aws.batch') return;
        const e = a.event.detail as { jobName?: string; status?: string; statusReason?: string };
        line(pc.dim(`  batch ${visible(String(e.jobName))} ${visible(String(e.status))}${e.statusReason ? `: ${visible(e.statusReason)}` : ''}`));
      });
    }
    stack.lambda.onDiscard((x) => line(pc.red(`lambda ${x.name} gave up on an event after its retries: ${visible(String(x.reason))}`)));
    this.timer = setInterval(() => void this.poll(), 1000);
    this.timer.unref();
  }

  detach(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.deps) return;
    this.polling = true;
    try {
      const ids = new Set([...(await this.store.listActiveRunIds(this.deps)), ...this.fired.keys()]);
      // Runs that left the active index since the last poll are read once more for their end.
      for (const id of this.seen.keys()) if (!ids.has(id.split('|')[0]!)) ids.add(id.split('|')[0]!);
      for (const id of ids) {
        const run = await this.store.getRun(this.deps, id, false);
        const left = this.fired.get(id);
        if (left !== undefined) {
          if (run || left <= 1) this.fired.delete(id);
          else this.fired.set(id, left - 1);
        }
        if (run) this.report(run);
      }
    } catch (error) {
      line(pc.yellow(`live view: ${visible(error instanceof Error ? error.message : String(error))}`));
    } finally {
      this.polling = false;
    }
  }

  private report(run: RunItem): void {
    // Names, reasons and ids come from jobs and API callers: shown, never obeyed (cli/sanitize.ts).
    const runId = visible(run.runId);
    const runKey = `${run.runId}|run`;
    if (this.seen.get(runKey) !== run.status) {
      const first = !this.seen.has(runKey);
      this.seen.set(runKey, run.status);
      const took = run.endedAt ? ` in ${duration(Date.parse(run.createdAt), Date.parse(run.endedAt))}` : '';
      const reason = run.statusReason ? pc.dim(` (${visible(run.statusReason)})`) : '';
      if (!(first && run.status === 'SUBMITTED')) line(`${status(run.status)} run ${pc.bold(runId)}${took}${reason}`);
      else line(`${status(run.status)} run ${pc.bold(runId)}${run.trigger !== 'schedule' ? pc.dim(` (${run.trigger})`) : ''}`);
    }
    for (const task of Object.values(run.tasks)) {
      const attempt = task.attempts[task.attempts.length - 1];
      const key = `${run.runId}|${task.name}`;
      const stateKey = `${task.status}#${attempt?.attempt ?? 0}`;
      if (this.seen.get(key) === stateKey) continue;
      this.seen.set(key, stateKey);
      if (task.status === 'PENDING') continue;
      const label = `${visible(run.schedule)}/${visible(task.name)}${attempt ? ` #${attempt.attempt}` : ''}`;
      let detail = '';
      if (task.status === 'RETRY_WAIT' && task.retryAt) {
        const prev = task.attempts[task.attempts.length - 1];
        detail = ` exit ${prev?.exitCode ?? '?'}, next attempt in ${duration(Date.now(), Date.parse(task.retryAt))}`;
      } else if (attempt?.startedAt && attempt.stoppedAt) {
        detail = ` ${duration(Date.parse(attempt.startedAt), Date.parse(attempt.stoppedAt))}`;
        if (task.status === 'FAILED') detail += ` exit ${attempt.exitCode ?? '?'}: ${visible(attempt.statusReason ?? '')}`;
      } else if (task.reason) {
        detail = ` ${visible(task.reason)}`;
      }
      line(`  ${status(task.status)} ${label}${pc.dim(detail)}`);
    }
    if (['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'].includes(run.status) && run.finalized) {
      // Nothing more will change: forget it so the map does not grow for ever.
      for (const k of [...this.seen.keys()]) if (k.startsWith(`${run.runId}|`)) this.seen.delete(k);
    }
  }
}

function status(s: string): string {
  const text = s.padEnd(10);
  if (s === 'SUCCEEDED') return pc.green(text);
  if (s === 'FAILED') return pc.red(text);
  if (s === 'RETRY_WAIT') return pc.magenta(text);
  if (s === 'SKIPPED' || s === 'CANCELLED') return pc.yellow(text);
  return pc.blue(text);
}

function duration(fromMs: number, toMs: number): string {
  const s = Math.max(0, (toMs - fromMs) / 1000);
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function hms(d: Date): string {
  return d.toISOString().slice(11, 19);
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s.padEnd(n);
}

function step(text: string): void {
  console.log(pc.dim(`… ${text}`));
}





/** Seconds after start at which the sample upload is published. */
const SAMPLE_EVENT_DELAY_MS = 5_000;

/**
 * When the deployment has event triggers and the project has `events/s3/object-created.json`,
 * publishes it once, a few seconds after start, as S3 would (a fresh id, a key under
 * `incoming/` named for the moment), so an event-triggered schedule such as `on-upload`
 * shows a run within its batch window of starting. Returns the timer, or undefined.
 */
function scheduleSampleUpload(stack: LocalStack, deployment: LocalDeployment, projectDir: string): NodeJS.Timeout | undefined {
  const file = resolve(projectDir, 'events/s3/object-created.json');
  if (!existsSync(file) || !deployment.rules.some((r) => r.function === 'trigger')) return undefined;
  const timer = setTimeout(() => {
    try {
      const event = JSON.parse(readFileSync(file, 'utf8')) as EventBridgeEvent<{ object?: { key?: string } }>;
      const now = new Date(stack.clock.now());
      const key = `incoming/sample-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')}.csv`;
      stack.bus.publish({
        ...event,
        id: randomUUID(),
        time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        detail: { ...event.detail, object: { ...event.detail.object, key } },
      });
      line(pc.dim(`sample upload: published S3 Object Created for ${key} (events/s3/object-created.json)`));
    } catch (error) {
      line(pc.yellow(`sample upload: not published: ${error instanceof Error ? error.message : String(error)}`));
    }
  }, SAMPLE_EVENT_DELAY_MS);
  timer.unref();
  return timer;
}
