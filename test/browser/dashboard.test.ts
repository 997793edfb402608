/**
 * The dashboard in a real browser (Debian's chromium through puppeteer-core) against
 * `npm start`, as a person uses it: sign in from the printed URL, look at the example
 * schedules and runs (the event-only one "on events"), page a schedule's calendar by month,
 * find a run by its Batch job id, trigger with a parameter and watch the run go live to
 * SUCCEEDED, read the always-failing run's log and re-run it, cancel a running run, pause
 * and resume, and be refused with a wrong token or as a viewer. axe-core checks every page; each page
 * is photographed into test/browser/.screenshots/.
 */
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, seriousViolations, startProduct, until, type Product } from './browser.ts';

let product: Product;
let browser: Browser;
let page: Page;

interface RunJson {
  runId: string;
  status: string;
  schedule: string;
  parameters?: Record<string, string>;
}

/** The API as the CLI calls it (operator's bearer token), to set the scene and check outcomes. */
async function apiGet<T>(path: string): Promise<T> {
  const res = await fetch(product.base + path, { headers: { authorization: `Bearer ${product.operatorToken}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function newPage(): Promise<Page> {
  const p = await browser.newPage();
  await p.setViewport({ width: 1280, height: 900 });
  // axe-core is injected as an inline script, which the dashboard's CSP (rightly) forbids.
  await p.setBypassCSP(true);
  return p;
}

/** Goes to a view and waits for its heading. */
async function open(p: Page, hash: string, heading: string | RegExp): Promise<void> {
  await p.goto(`${product.base}/${hash}`);
  const shown = async () => p.evaluate(() => document.body.innerText.slice(0, 300)).catch(() => '');
  await p
    .waitForFunction(
    (h: string, isRegex: boolean) => {
      // The heading comes first; the view is there once its data is.
      const text = document.querySelector('main h1')?.textContent ?? '';
      if (document.querySelector('main .loading')) return false;
      return isRegex ? new RegExp(h).test(text) : text === h;
    },
    // Behaviour, not speed (bench:dashboard measures that): the Schedules view's 11 requests
    // can take over 15 s when the rest of npm test shares the machine's two cores.
    { timeout: 30_000 },
    typeof heading === 'string' ? heading : heading.source,
    typeof heading !== 'string',
  )
    .catch(async (error: Error) => {
      throw new Error(`${error.message}; the page shows: ${await shown()}`);
    });
}

async function text(p: Page, selector = 'main'): Promise<string> {
  return p.$eval(selector, (el) => (el as HTMLElement).innerText);
}

async function expectAccessible(p: Page): Promise<void> {
  const violations = await seriousViolations(p);
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
}

beforeAll(async () => {
  [product, browser] = await Promise.all([startProduct(), launchBrowser()]);
  page = await newPage();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await product?.stop();
});

describe('the dashboard', () => {
  it('prints a sign-in URL whose token opens the dashboard and then leaves the address bar', async () => {
    expect(product.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);

    await page.goto(product.dashboardUrl);
    await page.waitForSelector('nav[aria-label="Views"]', { timeout: 15_000 });

    expect(page.url()).not.toContain('token');
    expect(await page.evaluate(() => location.search)).toBe('');
    const cookies = await browser.cookies();
    const session = cookies.find((c) => c.name === 'batchron_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(session!.value).not.toContain(product.operatorToken);
    expect(await text(page, 'header')).toContain('operator');
    // Nowhere in what npm start printed after the banner does the token appear again.
    expect(product.output().split(product.operatorToken).length - 1).toBeLessThanOrEqual(2);
  });

  it('shows the example schedules with their next fire and recent outcomes', async () => {
    await open(page, '#/schedules', 'Schedules');
    const body = await text(page);
    for (const name of ['every-minute', 'nightly-tokyo', 'etl-dag', 'flaky', 'always-fails', 'overlap-skip']) expect(body).toContain(name);
    expect(body).toContain('daily at 02:00');
    expect(body).toContain('Asia/Tokyo');
    expect(body).toMatch(/in \d+(s|m)/);
    // The first fires of the examples have run by now: some outcome cells exist.
    await page.waitForSelector('.cells .cell', { timeout: 60_000 });
    await screenshot(page, 'schedules');
    await expectAccessible(page);
    // The dark scheme holds the same contrast.
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(13, 17, 23)');
    await screenshot(page, 'schedules-dark');
    await expectAccessible(page);
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);

    await open(page, '#/schedules?q=etl', 'Schedules');
    const rows = await page.$$eval('table.schedules tbody tr', (trs) => trs.map((tr) => tr.querySelector('a')?.textContent));
    expect(rows).toEqual(['etl-dag']);

    // A schedule only events start has no next fire: it says so.
    await open(page, '#/schedules?q=on-upload', 'Schedules');
    const row = await page.$eval('table.schedules tbody tr', (tr) => (tr as HTMLElement).innerText);
    expect(row).toContain('on-upload');
    expect(row).toMatch(/on events[\s\S]*on events/);
  }, 90_000);

  it("pages a schedule's calendar by month from the URL and the keyboard", async () => {
    // The month as every-minute (UTC) sees it now, and its neighbours.
    const now = new Date();
    const month = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString().slice(0, 7);
    const caption = () => page.$eval('table.month caption', (c) => (c as HTMLElement).innerText);
    const monthName = (m: string) => new Date(`${m}-01T00:00:00Z`).toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });

    await open(page, '#/schedules/every-minute', 'every-minute');
    await page.waitForSelector('table.month', { timeout: 15_000 });
    expect(await caption()).toContain(monthName(month(0)));
    // Today holds the runs so far, coloured by outcome with their counts, and the fires still to come.
    await page.waitForSelector('table.month td[aria-current="date"] .cells a.cell', { timeout: 60_000 });
    const today = await page.$eval('table.month td[aria-current="date"]', (td) => (td as HTMLElement).innerText);
    expect(today).toMatch(/\d+ (succeeded|running|failed|submitted|queued)/);
    if (now.getUTCHours() < 23) expect(today).toMatch(/next \d\d:\d\d/);
    await page.$eval('table.month', (t) => t.scrollIntoView());
    await screenshot(page, 'schedule-calendar');
    await expectAccessible(page);

    // Next month with the keyboard: Tab to the link, Enter; the URL names the month.
    await page.focus('nav[aria-label="Calendar months"] a[rel="next"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction((m: string) => location.hash.includes(`month=${m}`), { timeout: 10_000 }, month(1));
    await page.waitForFunction((name: string) => document.querySelector('table.month caption')?.textContent?.includes(name), { timeout: 15_000 }, monthName(month(1)));
    // Every day of a month to come fires, once a minute: more than the calendar counts.
    const firstDay = await page.$eval('table.month tbody td:not(.outside)', (td) => (td as HTMLElement).innerText);
    expect(firstDay).toMatch(/next 00:00 00:01 00:02 \+21 or more/);
    await expectAccessible(page);

    // A shared link opens that month directly.
    await open(page, `#/schedules/every-minute?month=${month(-1)}`, 'every-minute');
    await page.waitForFunction((name: string) => document.querySelector('table.month caption')?.textContent?.includes(name), { timeout: 15_000 }, monthName(month(-1)));
    expect(await page.$$('table.month .fires')).toHaveLength(0);
  }, 120_000);

  it('finds the run of a Batch job id, and says when there is none', async () => {
    const withJob = await until(
      async () => {
        const runs = await apiGet<{ runs: RunJson[] }>('/runs?schedule=every-minute&limit=5');
        for (const r of runs.runs) {
          const run = await apiGet<{ runId: string; tasks: { attempts: { jobId?: string }[] }[] }>(`/runs/${encodeURIComponent(r.runId)}`);
          const jobId = run.tasks[0]?.attempts[0]?.jobId;
          if (jobId) return { runId: run.runId, jobId };
        }
        return undefined;
      },
      'a run of every-minute with a job',
      60_000,
    );
    await open(page, '#/runs', 'Runs');
    await page.type('input[name="job-id"]', withJob.jobId);
    await page.keyboard.press('Enter');
    await page.waitForFunction((j: string) => location.hash.includes(`jobId=${j}`), { timeout: 10_000 }, withJob.jobId);
    await page.waitForSelector(`main table.runs a[href="#/runs/${encodeURIComponent(withJob.runId)}"]`, { timeout: 15_000 });
    expect(await page.$$eval('main table.runs tbody tr', (trs) => trs.length)).toBe(1);
    expect(await text(page, '[role="status"]')).toContain('attempt 1 of task main');
    await screenshot(page, 'runs-job-id');
    await expectAccessible(page);

    await open(page, '#/runs?jobId=4f1b6c2e-8a7d-4a43-9a0e-2b8f2f0c9d11', 'Runs');
    await page.waitForSelector('main [role="alert"]', { timeout: 15_000 });
    expect(await text(page, 'main [role="alert"]')).toMatch(/^No run for job '4f1b6c2e-8a7d-4a43-9a0e-2b8f2f0c9d11'/);
  }, 90_000);

  it('shows the Now view and its wall mode', async () => {
    await open(page, '#/now', 'Now');
    expect(await text(page)).toMatch(/failed in 24 h/);
    expect(await text(page)).toMatch(/Due in the next hour/);
    await screenshot(page, 'now');
    await expectAccessible(page);
    await open(page, '#/now?wall=1', 'Now');
    expect(await page.$('header.top')).toBeNull();
    await screenshot(page, 'now-wall');
    await expectAccessible(page);
  }, 60_000);

  it('triggers etl-dag with a parameter and follows the run live to SUCCEEDED', async () => {
    await open(page, '#/schedules/etl-dag', 'etl-dag');
    await page.type('input[name="param-day"]', '2026-11-01');
    // etl-dag skips a run that overlaps its own: click when none is active and no fire is near.
    await until(
      async () => {
        const s = await apiGet<{ nextFireTimes: string[] }>('/schedules/etl-dag');
        const active = await apiGet<{ runs: RunJson[] }>('/runs?schedule=etl-dag&limit=5');
        const busy = active.runs.some((r) => ['QUEUED', 'SUBMITTED', 'RUNNING'].includes(r.status));
        return !busy && Date.parse(s.nextFireTimes[0]!) - Date.now() > 30_000;
      },
      'a quiet moment of etl-dag',
      130_000,
    );
    await page.click('form[aria-label="Trigger a run"] button[type="submit"]');

    await page.waitForFunction(() => location.hash.startsWith('#/runs/'), { timeout: 15_000 });
    const runId = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/runs/'.length));
    await page.waitForSelector('svg.dag', { timeout: 15_000 });
    expect(await text(page)).toContain('day=2026-11-01');
    // No reload: the page polls and the badge turns to the outcome by itself.
    const final = ['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED'];
    await page.waitForFunction((f: string[]) => f.includes(document.querySelector('.titlebar .badge')?.textContent ?? ''), { timeout: 120_000 }, final);
    const stored = await apiGet<RunJson & { statusReason?: string }>(`/runs/${encodeURIComponent(runId)}`);
    expect(stored.status, stored.statusReason).toBe('SUCCEEDED');
    expect(await page.$eval('.titlebar .badge', (b) => b.textContent)).toBe('SUCCEEDED');
    expect(stored.parameters).toEqual({ day: '2026-11-01' });
    // A node's name is its text: the task and its state.
    const nodes = await page.$$eval('svg.dag g.node', (gs) => gs.map((g) => [...g.querySelectorAll('text')].map((t) => t.textContent!.trim()).join(' ')));
    expect(nodes).toEqual(expect.arrayContaining(['extract SUCCEEDED', 'load SUCCEEDED', 'transform-orders SUCCEEDED', 'transform-customers SUCCEEDED']));
    await screenshot(page, 'run');
    await expectAccessible(page);

    await open(page, '#/schedules/etl-dag', 'etl-dag');
    await page.waitForSelector('table.grid tbody tr', { timeout: 15_000 });
    await screenshot(page, 'schedule');
    await expectAccessible(page);
  }, 300_000);

  it('opens the failed always-fails run, reads its log and re-runs it', async () => {
    const failed = await until(
      async () => (await apiGet<{ runs: RunJson[] }>('/runs?schedule=always-fails&status=FAILED&limit=1')).runs[0],
      'a FAILED always-fails run',
      120_000,
    );
    await open(page, '#/runs?status=FAILED&schedule=always-fails', 'Runs');
    await page.waitForSelector(`a[href="#/runs/${encodeURIComponent(failed.runId)}"]`, { timeout: 15_000 });
    await screenshot(page, 'runs');
    await expectAccessible(page);
    await page.click(`a[href="#/runs/${encodeURIComponent(failed.runId)}"]`);
    await page.waitForFunction(() => document.querySelector('.titlebar .badge')?.textContent === 'FAILED', { timeout: 15_000 });

    await page.waitForFunction(() => (document.querySelector('pre.log')?.textContent ?? '').includes('warehouse unreachable'), { timeout: 15_000 });
    expect(await text(page)).toMatch(/exit code 3|\b3\b/);
    await screenshot(page, 'run-failed');

    const attemptsOf = (r: { tasks: { name: string; attempts: unknown[] }[] }) => r.tasks.find((t) => t.name === 'main')!.attempts.length;
    const before = attemptsOf(await apiGet(`/runs/${encodeURIComponent(failed.runId)}`));
    await page.click('.actions button');
    // The run starts again as its next attempt: more attempts of main, shown on the page without a reload.
    await until(async () => attemptsOf(await apiGet(`/runs/${encodeURIComponent(failed.runId)}`)) > before, 'the re-run attempt', 60_000);
    await page.waitForFunction((n: number) => document.querySelectorAll('main table tbody tr').length > n + 1, { timeout: 15_000 }, before);
  }, 150_000);

  it('cancels a running run', async () => {
    // overlap-skip runs a 90-second job every minute: one is running most of the time.
    const running = await until(
      async () => (await apiGet<{ runs: RunJson[] }>('/runs?schedule=overlap-skip&status=RUNNING&limit=1')).runs[0],
      'a RUNNING overlap-skip run',
      90_000,
    );
    await open(page, `#/runs/${encodeURIComponent(running.runId)}`, running.runId);
    await page.waitForSelector('button.danger', { timeout: 10_000 });
    await page.click('button.danger');
    await page.waitForFunction(() => document.querySelector('.titlebar .badge')?.textContent === 'CANCELLED', { timeout: 30_000 });
    expect((await apiGet<RunJson>(`/runs/${encodeURIComponent(running.runId)}`)).status).toBe('CANCELLED');
  }, 120_000);

  it('pauses and resumes a schedule with its switch', async () => {
    await open(page, '#/schedules', 'Schedules');
    const toggle = 'button[aria-label="Paused: every-minute"]';
    await page.waitForSelector(`${toggle}[aria-checked="false"]`);
    await page.click(toggle);
    await page.waitForSelector(`${toggle}[aria-checked="true"]`, { timeout: 10_000 });
    expect((await apiGet<{ paused: boolean }>('/schedules/every-minute')).paused).toBe(true);
    await page.click(toggle);
    await page.waitForSelector(`${toggle}[aria-checked="false"]`, { timeout: 10_000 });
    expect((await apiGet<{ paused: boolean }>('/schedules/every-minute')).paused).toBe(false);
  }, 60_000);

  it('refuses a wrong token and shows the sign-in form', async () => {
    const context = await browser.createBrowserContext();
    const stranger = await context.newPage();
    await stranger.goto(`${product.base}/?token=not-the-token`);
    await stranger.waitForSelector('form input#token', { timeout: 15_000 });
    expect(await text(stranger, '[role="alert"]')).toMatch(/not one this local API issued/);
    expect(stranger.url()).not.toContain('not-the-token');
    const status = await stranger.evaluate(async () => (await fetch('/ui/runs')).status);
    expect(status).toBe(401);
    await screenshot(stranger, 'signin');
    await stranger.setBypassCSP(true);
    await stranger.reload();
    await stranger.waitForSelector('form input#token', { timeout: 15_000 });
    await expectAccessible(stranger);
    await context.close();
  }, 60_000);

  it('lets a viewer look but not trigger, pause or cancel', async () => {
    const context = await browser.createBrowserContext();
    const viewer = await context.newPage();
    await viewer.setViewport({ width: 1280, height: 900 });
    await viewer.goto(`${product.base}/?token=${encodeURIComponent(product.viewerToken)}#/schedules/every-minute`);
    await viewer.waitForFunction(() => document.querySelector('main h1')?.textContent === 'every-minute' && !document.querySelector('main .loading'), { timeout: 15_000 });
    await viewer.waitForSelector('main section', { timeout: 15_000 });
    expect(await text(viewer, 'header')).toContain('viewer');
    expect(await viewer.$('form[aria-label="Trigger a run"]')).toBeNull();
    expect(await viewer.$eval('button[role="switch"]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);

    // Even a request made by hand with the viewer's session is refused.
    const answer = await viewer.evaluate(async () => {
      const res = await fetch('/ui/schedules/every-minute/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('Forbidden');
    await context.close();
  }, 60_000);
});
