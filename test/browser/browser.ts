/**
 * Helpers of the browser tests: `npm start`'s command in a fresh copy of the project (as
 * test/e2e/first-run.test.ts starts it), Debian's chromium driven by puppeteer-core (nothing
 * is downloaded), axe-core injected into the page, screenshots into test/browser/.screenshots/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { freePort } from '#local/ports';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const repo = resolve(import.meta.dirname, '../..');
export const SCREENSHOTS = join(repo, 'test/browser/.screenshots');
const SKIP = new Set(['node_modules', '.git', '.batchron', '.serverless', '.esbuild', 'coverage']);

/** The system's Chromium (Debian's `chromium` package; CHROMIUM_PATH overrides). */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('No Chromium found: apt-get install -y chromium (or set CHROMIUM_PATH). .ci/run installs it.');
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in CI: Chromium's sandbox needs user namespaces it may not have there.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
  });
}


export interface Product {
  /** The `Dashboard` line's URL, token included, as printed. */
  dashboardUrl: string;
  /** http://127.0.0.1:<port> */
  base: string;
  project: string;
  operatorToken: string;
  viewerToken: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** `npm start` (bin/batchron.mjs start) in a fresh copy of the project; resolves at its banner. */
export async function startProduct(): Promise<Product> {
  const project = mkdtempSync(join(tmpdir(), 'batchron-browser-'));
  cpSync(repo, project, { recursive: true, filter: (src) => !SKIP.has(relative(repo, src).split('/')[0] ?? '') });
  symlinkSync(join(repo, 'node_modules'), join(project, 'node_modules'), 'dir');
  const awsPort = await freePort();
  const apiPort = await freePort();
  let out = '';
  const child: ChildProcess = spawn(process.execPath, ['bin/batchron.mjs', 'start', '--port', String(awsPort), '--api-port', String(apiPort), '--grace', '1000'], {
    cwd: project,
    env: { ...process.env, NO_COLOR: '1', AWS_ENDPOINT_URL: '', SLACK_WEBHOOK_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const deadline = Date.now() + 120_000;
  while (!/Dashboard\s+(\S+)/.test(out)) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
    if (Date.now() > deadline) throw new Error(`npm start printed no Dashboard line:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const dashboardUrl = /Dashboard\s+(\S+)/.exec(out)![1]!;
  return {
    dashboardUrl,
    base: new URL(dashboardUrl).origin,
    project,
    operatorToken: readFileSync(join(project, '.batchron/api-token'), 'utf8').trim(),
    viewerToken: readFileSync(join(project, '.batchron/viewer-token'), 'utf8').trim(),
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(project, { recursive: true, force: true });
    },
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core on the page (WCAG 2.x A/AA rules); returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
}

/** Polls `check` until it holds (for what the API says, outside the page). */
export async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
