/**
 * Benchmark of the dashboard, printed as figures (never asserted):
 *
 *   1. the first-page bundle (HTML shell + JS + CSS), gzipped, against its 250 KB budget;
 *   2. with 100,000 runs in the table, the Runs page's first page and a Run page: time from
 *      navigation to the rendered rows (server time + bundle + first render, in Debian's
 *      chromium) against a bare API call of the same data (`GET /runs?limit=50`,
 *      `GET /runs/{id}`), as a ratio.
 *
 * The stack is `npm start`'s: the local stack, serverless.yml deployed on it (schedules
 * paused first, so nothing fires meanwhile), the local HTTP API with the api function.
 * Runs are seeded by copying one real run's item under the example schedules. Every loop is
 * bounded and talks only to 127.0.0.1. The last line is JSON.
 * Run: npm run bench:dashboard [-- --runs 100000 --samples 7]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { startLocalStack } from '#local/stack';
import { spawnDynamoDBLocal } from '#local/dynamodb';
import { deployLocal } from '#local/deploy';
import { startHttpApi } from '#local/http-api';
import { runsByScheduleSort } from '#shared/store/keys';
import { RUN_INDEX_ATTRIBUTES, RUN_STATUS_ATTRIBUTES } from '#shared/config/table';
import { webFiles } from '#shared/web/assets';
import { awsClients } from '#test/helpers/aws';
import { launchBrowser } from '../test/browser/browser.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    samples: { type: 'string', default: '7' },
  },
});
const RUNS = Number(args.runs);
// The functions run in this process: only their warnings, not a JSON line per decision.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const SAMPLES = Number(args.samples);
const BUDGET_GZIP_BYTES = 250 * 1024;
const PAGE_SIZE = 50; // what the Runs page asks for
const repo = resolve(import.meta.dirname, '..');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  // 1. The bundle.
  const files = await webFiles();
  let raw = 0;
  let gz = 0;
  for (const [, f] of files) {
    raw += Buffer.byteLength(f.body);
    gz += gzipSync(f.body).length;
  }
  console.log(`first-page bundle: ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped; budget ${BUDGET_GZIP_BYTES / 1024} KB gzipped (${((gz / BUDGET_GZIP_BYTES) * 100).toFixed(0)}% used)`);

  // 2. The stack with 100,000 runs.
  const dataDir = mkdtempSync(join(tmpdir(), 'batchron-bench-dashboard-'));
  // DynamoDB Local in memory: seeding 100,000 runs on disk takes most of an hour on a busy 2-core machine.
  const ddb = await spawnDynamoDBLocal();
  let stopping = false;
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    projectDir: repo,
    dynamodb: { endpoint: ddb.url },
    killGraceMs: 500,
    log: (line) => !stopping && console.log(line),
  });
  const browser = await launchBrowser();
  try {
    const deployment = await deployLocal(stack, { projectDir: repo, stage: 'dev' });
    const api = await startHttpApi({ routes: deployment.routes, lambda: stack.lambda, dataDir, port: 0, now: () => stack.clock.now() });
    const bearer = { authorization: `Bearer ${api.token}` };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(api.url + path, { method, headers: { ...bearer, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<any>;
    };
    await call('POST', '/schedules/pause', { prefix: '' });

    // One real run of the workflow (4 tasks) is the model of every seeded run, and the Run page's subject.
    // A paused schedule's ad hoc run is SKIPPED; resume etl-dag for it alone.
    await call('POST', '/schedules/etl-dag/resume');
    const real = await call('POST', '/schedules/etl-dag/runs', { parameters: { day: '2026-11-02' } });
    await call('POST', '/schedules/etl-dag/pause');
    const deadline = Date.now() + 120_000;
    let shown = real;
    while (!['SUCCEEDED', 'FAILED'].includes(shown.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      shown = await call('GET', `/runs/${encodeURIComponent(real.runId)}`);
    }
    console.log(`model run ${real.runId}: ${shown.status}, ${shown.tasks.length} tasks`);

    const { doc } = awsClients(stack.url);
    const items = await doc.send(new QueryCommand({ TableName: deployment.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `RUN#${real.runId}` } }));
    const model = items.Items!.find((i) => i.sk === 'RUN')!;
    const schedules = Object.keys((await call('GET', '/schedules')).schedules.reduce((a: Record<string, true>, s: { name: string }) => ({ ...a, [s.name]: true }), {}));
    const seedStart = performance.now();
    const gate = pLimit(16);
    const base = Date.parse('2026-01-01T00:00:00Z');
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < RUNS - 1; i += 25) {
      const batch: Record<string, unknown>[] = [];
      for (let j = i; j < Math.min(i + 25, RUNS - 1); j++) {
        const schedule = schedules[j % schedules.length]!;
        const scheduledTime = new Date(base + j * 60_000).toISOString();
        const runId = `${schedule}.seed${String(j).padStart(6, '0')}`;
        // What the Runs page reads of a run is the by-schedule index's projection and the
        // status fields of the run item; the seeded runs carry those and the keys (the Run
        // page reads the model run, whole).
        const rest = Object.fromEntries(Object.entries(model).filter(([k]) => ([...RUN_INDEX_ATTRIBUTES, ...RUN_STATUS_ATTRIBUTES] as readonly string[]).includes(k)));
        batch.push({ ...rest, pk: `RUN#${runId}`, sk: 'RUN', runId, schedule, scheduledTime, gsi1pk: `SCHED#${schedule}`, gsi1sk: runsByScheduleSort(scheduledTime, runId), status: j % 10 === 0 ? 'FAILED' : 'SUCCEEDED' });
      }
      batches.push(batch);
    }
    let written = 0;
    await Promise.all(
      batches.map((batch) =>
        gate(async () => {
          written += batch.length;
          if (written % 10_000 < 25) console.log(`  seeding: ${written} runs`);
          let pending: unknown[] | undefined = batch.map((Item) => ({ PutRequest: { Item } }));
          while (pending && pending.length > 0) {
            const out: { UnprocessedItems?: Record<string, unknown[]> } = await doc.send(new BatchWriteCommand({ RequestItems: { [deployment.table]: pending as never } }));
            pending = out.UnprocessedItems?.[deployment.table];
          }
        }),
      ),
    );
    console.log(`seeded ${RUNS - 1} runs in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (plus the model run)`);

    // Bare API calls of the same data the pages show.
    const timeCall = async (path: string) => {
      const t = performance.now();
      await call('GET', path);
      return performance.now() - t;
    };
    const apiRuns: number[] = [];
    const apiRun: number[] = [];
    await timeCall(`/runs?limit=${PAGE_SIZE}`); // warm: the function's first import, the JIT
    for (let i = 0; i < SAMPLES; i++) {
      apiRuns.push(await timeCall(`/runs?limit=${PAGE_SIZE}`));
      apiRun.push(await timeCall(`/runs/${encodeURIComponent(real.runId)}`));
    }

    // The pages: a fresh navigation each time (shell, bundle from cache as a returning user has it, calls, render).
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(api.dashboardUrl);
    await page.waitForSelector('nav[aria-label="Views"]', { timeout: 30_000 });
    const pageTime = async (hash: string, ready: string) => {
      await page.goto('about:blank');
      await page.goto(`${api.url}/${hash}`);
      // Read the page's own clock when the element appears (not after a round trip to here).
      const at = await page.waitForFunction((sel: string) => (document.querySelector(sel) ? performance.now() : 0), { timeout: 60_000, polling: 'mutation' }, ready);
      return (await at.jsonValue()) as number;
    };
    await pageTime('#/runs', 'table.runs tbody tr');
    const pageRuns: number[] = [];
    const pageRun: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      pageRuns.push(await pageTime('#/runs', 'table.runs tbody tr'));
      pageRun.push(await pageTime(`#/runs/${encodeURIComponent(real.runId)}`, 'svg.dag g.node'));
    }

    const result = {
      runs: RUNS,
      bundleGzipBytes: gz,
      budgetGzipBytes: BUDGET_GZIP_BYTES,
      runsPage: { pageMs: median(pageRuns), apiMs: median(apiRuns), ratio: median(pageRuns) / median(apiRuns) },
      runPage: { pageMs: median(pageRun), apiMs: median(apiRun), ratio: median(pageRun) / median(apiRun) },
    };
    console.log(`Runs page, first ${PAGE_SIZE} of ${RUNS} runs: ${ms(result.runsPage.pageMs)} to rendered rows vs ${ms(result.runsPage.apiMs)} for GET /runs?limit=${PAGE_SIZE}: ratio ${result.runsPage.ratio.toFixed(2)}`);
    console.log(`Run page (4-task workflow): ${ms(result.runPage.pageMs)} to the rendered graph vs ${ms(result.runPage.apiMs)} for GET /runs/{id}: ratio ${result.runPage.ratio.toFixed(2)}`);
    console.log(`(medians of ${SAMPLES}; page time is from navigation start, in headless chromium)`);
    console.log(JSON.stringify(result));
    await api.close();
  } finally {
    stopping = true;
    await browser.close();
    await stack.stop({ graceMs: 500 });
    await ddb.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
