/**
 * Cold-start budget, printed as figures (never asserted). For each function of
 * serverless.yml:
 *
 *   1. build it with the esbuild options serverless-esbuild would use (bench/lib/serverless-esbuild.ts);
 *   2. build a BASELINE with the same options: a handler that only creates the AWS clients
 *      the function's bundle pulls in (the @aws-sdk/client-* packages in its metafile);
 *   3. import each bundle in fresh `node` processes, alternating function and baseline,
 *      with the environment the function has on AWS, and time `await import()` inside
 *      the child (module initialisation only, not node's own start-up).
 *
 * Printed per function: bundle bytes (and gzip), init median/p90, both as ratios to the
 * baseline, and the five inputs that weigh most in the bundle (esbuild metafile
 * `bytesInOutput`), so what does not pay for itself is easy to find.
 * The last line is one JSON object.
 *
 * Run: npm run bench:cold-start [-- --runs 15]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { parse } from 'yaml';
import { ENV } from '#shared/config/definition';
import { functionEntries, serverlessEsbuildOptions, type ServiceFile } from './lib/serverless-esbuild.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer (got ${args.runs})`);

const ROOT = path.resolve(import.meta.dirname, '..');
/** A child that hangs on import is a finding, not a reason to wait forever. */
const CHILD_TIMEOUT_MS = 30_000;

/**
 * Plausible values for every variable of the env contract. Typed by ENV's keys, so a new
 * variable fails the type check here until it gets a value. SLACK_WEBHOOK_URL is local
 * only (on AWS the URL is read from SSM), so it is left unset as on AWS.
 */
const PLAUSIBLE_ENV: Record<keyof typeof ENV, string | undefined> = {
  table: 'batchron-dev',
  deployment: 'batchron-dev',
  scheduleGroup: 'batchron-dev',
  fireTargetArn: 'arn:aws:lambda:us-east-1:123456789012:function:batchron-dev-fire',
  retryTargetArn: 'arn:aws:lambda:us-east-1:123456789012:function:batchron-dev-retry',
  triggerTargetArn: 'arn:aws:lambda:us-east-1:123456789012:function:batchron-dev-trigger',
  schedulerRoleArn: 'arn:aws:iam::123456789012:role/batchron-dev-BatchronSchedulerRole-1A2B3C4D5E6F',
  defaultQueue: 'batchron-dev',
  retentionDays: '30',
  submitRate: '50',
  slackWebhookParameter: '/batchron/dev/slack-webhook',
  slackWebhookUrl: undefined,
  jobLogGroup: '/aws/batch/batchron-dev',
  stuckQueuedMinutes: '30',
  stuckSubmittedMinutes: '120',
  stuckRunningMinutes: '720',
  // Set by the local stack only; unset on AWS.
  quietFailureReasons: undefined,
  allowCommandOverride: 'false',
};

interface Measured {
  name: string;
  bytes: number;
  gzipBytes: number;
  initMsMedian: number;
  initMsP90: number;
  baselineInitMsMedian: number;
  baselineBytes: number;
  initRatio: number;
  sizeRatio: number;
  clients: string[];
  topInputs: { path: string; bytes: number }[];
  topPackages: { name: string; bytes: number }[];
}

interface Bundle {
  file: string;
  bytes: number;
  gzipBytes: number;
  metafile: Metafile;
}

async function main(): Promise<void> {
  // The CloudFormation tags (!Sub, !GetAtt, ...) are irrelevant here; silence their warnings.
  const service = parse(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as ServiceFile;
  const functions = functionEntries(service, ROOT);
  const outRoot = mkdtempSync(path.join(tmpdir(), 'batchron-cold-start-'));
  try {
    // Baseline sources live in the temp dir; this link lets them resolve the project's @aws-sdk.
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(outRoot, 'node_modules'), 'dir');
    const child = path.join(outRoot, 'measure-import.mjs');
    writeFileSync(child, CHILD_SOURCE);
    console.log(`cold-start: ${functions.length} functions, ${RUNS} fresh node processes each (${process.version}; runtime ${service.provider?.runtime ?? '?'})`);

    const results: Measured[] = [];
    for (const fn of functions) {
      const bundle = await buildBundle(service, fn.entry, outRoot);
      const clients = sdkClients(bundle.metafile);
      const baseline = await buildBundle(service, await writeBaseline(fn.name, clients, outRoot), outRoot);
      const env = lambdaEnv(service, fn.name);
      const [fnTimes, baseTimes] = await measurePair(child, bundle.file, baseline.file, env);
      const m: Measured = {
        name: fn.name,
        bytes: bundle.bytes,
        gzipBytes: bundle.gzipBytes,
        initMsMedian: round(quantile(fnTimes, 0.5)),
        initMsP90: round(quantile(fnTimes, 0.9)),
        baselineInitMsMedian: round(quantile(baseTimes, 0.5)),
        baselineBytes: baseline.bytes,
        initRatio: round(quantile(fnTimes, 0.5) / quantile(baseTimes, 0.5)),
        sizeRatio: round(bundle.bytes / baseline.bytes),
        clients,
        topInputs: topInputs(bundle.metafile, 5),
        topPackages: topPackages(bundle.metafile, 5),
      };
      results.push(m);
      console.log(
        `${m.name.padEnd(12)} ${kb(m.bytes)} (${kb(m.gzipBytes)} gz, x${m.sizeRatio} baseline)  ` +
          `init ${m.initMsMedian} ms median / ${m.initMsP90} p90, baseline ${m.baselineInitMsMedian} ms -> x${m.initRatio}  ` +
          `[${clients.map((c) => c.replace('@aws-sdk/', '')).join(', ')}]`,
      );
      console.log(`  heaviest packages: ${m.topPackages.map((p) => `${p.name} ${kb(p.bytes)}`).join(', ')}`);
      console.log(`  heaviest inputs:   ${m.topInputs.map((i) => `${i.path} ${kb(i.bytes)}`).join(', ')}`);
    }
    console.log(JSON.stringify({ functions: results, runs: RUNS }));
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }
}

/** Builds one entry exactly as serverless-esbuild would; sizes are of the .mjs (the source map ships beside it). */
async function buildBundle(service: ServiceFile, entry: string, outRoot: string): Promise<Bundle> {
  const { metafile } = await build(serverlessEsbuildOptions(service, entry, outRoot, ROOT));
  const file = metafile && Object.keys(metafile.outputs).find((o) => !o.endsWith('.map'));
  if (!metafile || !file) throw new Error(`esbuild produced no bundle for ${entry}`);
  const code = readFileSync(path.resolve(ROOT, file));
  return { file: path.resolve(ROOT, file), bytes: code.length, gzipBytes: gzipSync(code).length, metafile };
}

/** The AWS SDK client packages a bundle pulls in (lib-dynamodb counts: it is the DocumentClient). */
function sdkClients(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /node_modules\/(@aws-sdk\/(?:client-[a-z0-9-]+|lib-dynamodb))\//.exec(input);
    if (m) found.add(m[1]!);
  }
  return [...found].sort();
}

/** Writes a handler that creates only `clients` (as shared/clients/* does) and returns its path relative to ROOT. */
async function writeBaseline(name: string, clients: string[], outRoot: string): Promise<string> {
  const imports: string[] = [];
  const lines: string[] = [];
  const ids = new Map<string, string>();
  for (const pkg of clients.filter((c) => c.startsWith('@aws-sdk/client-'))) {
    const className = await clientClassName(pkg);
    const id = `c${ids.size}`;
    imports.push(`import { ${className} } from '${pkg}';`);
    lines.push(`const ${id} = new ${className}({});`);
    ids.set(pkg, id);
  }
  if (clients.includes('@aws-sdk/lib-dynamodb')) {
    const dynamodb = ids.get('@aws-sdk/client-dynamodb');
    if (!dynamodb) throw new Error(`${name}: lib-dynamodb without client-dynamodb`);
    imports.push(`import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`);
    lines.push(`const doc = DynamoDBDocumentClient.from(${dynamodb}, { marshallOptions: { removeUndefinedValues: true } });`);
    ids.set('@aws-sdk/lib-dynamodb', 'doc');
  }
  lines.push(`const clients = [${[...ids.values()].join(', ')}];`, 'export const handler = async () => clients.length;');
  const dir = path.join(outRoot, 'baseline');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.ts`);
  writeFileSync(file, `${[...imports, ...lines].join('\n')}\n`);
  return path.relative(ROOT, file);
}

/** The client class a package exports (`@aws-sdk/client-batch` -> `BatchClient`). */
async function clientClassName(pkg: string): Promise<string> {
  const mod = (await import(pkg)) as Record<string, unknown>;
  const names = Object.keys(mod).filter((k) => /^[A-Z][A-Za-z0-9]*Client$/.test(k) && typeof mod[k] === 'function');
  if (names.length !== 1) throw new Error(`${pkg}: expected one *Client export, found ${names.join(', ') || 'none'}`);
  return names[0]!;
}

/**
 * The environment the function has on AWS: provider and function `environment` (values
 * that CloudFormation or serverless would resolve are replaced by the plausible ones),
 * what the Lambda runtime sets, and dummy credentials. Nothing of this shell leaks in
 * (no AWS_ENDPOINT_URL, no profile) except PATH.
 */
function lambdaEnv(service: ServiceFile, name: string): Record<string, string> {
  const fn = service.functions?.[name];
  const declared = { ...service.provider?.environment, ...fn?.environment };
  const literal = Object.entries(declared).filter((e): e is [string, string] => typeof e[1] === 'string' && !e[1].includes('${'));
  const contract = Object.entries(ENV).flatMap(([key, variable]) => {
    const value = PLAUSIBLE_ENV[key as keyof typeof ENV];
    return value === undefined ? [] : [[variable, value] as const];
  });
  const runtime = service.provider?.runtime ?? 'nodejs22.x';
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...Object.fromEntries(literal),
    ...Object.fromEntries(contract),
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: 'dummy-session-token',
    AWS_LAMBDA_FUNCTION_NAME: `batchron-dev-${name}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn?.memorySize ?? service.provider?.memorySize ?? 1024),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/batchron-dev-${name}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    TZ: ':UTC',
  };
}

/** Times `await import()` of the two bundles in alternating fresh processes (one unrecorded warm-up each, for the file cache). */
async function measurePair(child: string, a: string, b: string, env: Record<string, string>): Promise<[number[], number[]]> {
  await importTime(child, a, env);
  await importTime(child, b, env);
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < RUNS; i++) {
    // Alternate who goes first so neither always runs right after the other.
    const order: [0 | 1, string][] = i % 2 === 0 ? [[0, a], [1, b]] : [[1, b], [0, a]];
    for (const [slot, file] of order) times[slot].push(await importTime(child, file, env));
  }
  return times;
}

const CHILD_SOURCE = `const t0 = performance.now();
try {
  await import(process.argv[2]);
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error && error.stack || error) }) + '\\n');
  process.exit(1);
}
const t1 = performance.now();
process.stdout.write(JSON.stringify({ initMs: t1 - t0 }) + '\\n');
// A bundle may leave handles open (timers, sockets); its init is what is measured, not its exit.
process.exit(0);
`;

function importTime(child: string, bundle: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, pathToFileURL(bundle).href], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(last) as { initMs?: number; error?: string };
        if (typeof parsed.initMs === 'number') return resolve(parsed.initMs);
        reject(new Error(`${path.basename(bundle)} failed at init: ${parsed.error ?? last}`));
      } catch {
        reject(new Error(`${path.basename(bundle)}: child exited ${code ?? signal} without a timing; stderr: ${err.slice(0, 2000)}`));
      }
    });
  });
}

/** Bytes each input contributes to the bundle, heaviest first. */
function topInputs(metafile: Metafile, n: number): { path: string; bytes: number }[] {
  return Object.entries(bundleInputs(metafile))
    .map(([p, v]) => ({ path: p.replace(/^.*node_modules\//, ''), bytes: v.bytesInOutput }))
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, n);
}

/** The same, summed per npm package (the project's own sources count as "(project)"). */
function topPackages(metafile: Metafile, n: number): { name: string; bytes: number }[] {
  const sums = new Map<string, number>();
  for (const [p, v] of Object.entries(bundleInputs(metafile))) {
    const m = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p);
    const name = m ? m[1]! : '(project)';
    sums.set(name, (sums.get(name) ?? 0) + v.bytesInOutput);
  }
  return [...sums].map(([name, bytes]) => ({ name, bytes })).sort((x, y) => y.bytes - x.bytes).slice(0, n);
}

function bundleInputs(metafile: Metafile): Record<string, { bytesInOutput: number }> {
  const out = Object.entries(metafile.outputs).find(([o]) => !o.endsWith('.map'));
  if (!out) throw new Error('metafile has no bundle output');
  return out[1].inputs;
}

/** Nearest-rank quantile. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

await main();
