/**
 * `batchron validate` as a user runs it: serverless.yml resolved by osls, the schedules
 * checked by the same rules as `osls package`, each schedule's next five fire times in its
 * zone; an invalid file exits 2 listing every problem. The cases run the CLI in process
 * (test/helpers/cli.ts: no Node start for the CLI; `validate` still runs `osls print` as a
 * child, as it does for a user); the project's own file is checked as a user runs it, a
 * child process of bin/batchron.mjs.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inProcessCli } from '#test/helpers/cli';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'batchron.mjs');
// Under the repository (so osls resolves from its node_modules) and git-ignored (`*.tmp`).
const SCRATCH = join(ROOT, '.cli-validate.tmp');

afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

const inProcess = inProcessCli();

const cli = (...args: string[]) => inProcess(args);

/** The real command line: node bin/batchron.mjs in a child process. */
async function binCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function project(yaml: string): string {
  const dir = join(SCRATCH, randomUUID());
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'serverless.yml'), yaml);
  return dir;
}

const HEADER = `service: demo
frameworkVersion: '>=4.3.1'
provider:
  name: aws
  runtime: nodejs22.x
custom:
  batchron:
    jobDefinitions:
      hello: { image: alpine, command: [echo, hi] }
`;

describe('batchron validate', () => {
  it("accepts the project's own serverless.yml and prints five fire times per schedule (bin/batchron.mjs as a child process)", async () => {
    const out = await binCli('validate', '--json');
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as { valid: boolean; schedules: { name: string; timezone: string; next: string[] }[] };
    expect(result.valid).toBe(true);
    expect(result.schedules.length).toBeGreaterThan(0);
    for (const s of result.schedules) expect(s.next.length).toBeLessThanOrEqual(5);
    expect(result.schedules.find((s) => s.timezone === 'Asia/Tokyo')).toBeDefined();
  });

  it('prints times on the schedule’s own wall clock', async () => {
    const dir = project(`${HEADER}    schedules:
      tokyo-morning:
        expression: cron(0 9 ? * MON-FRI *)
        timezone: Asia/Tokyo
        job: { definition: hello }
`);
    const out = await cli('validate', '--dir', dir);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('serverless.yml is valid: 1 schedule');
    const lines = out.stdout.split('\n').filter((l) => l.includes('09:00 +09:00'));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\s+\d{4}-\d{2}-\d{2} 09:00 \+09:00\s+\d{4}-\d{2}-\d{2}T00:00:00Z$/);
  });

  it('exits 2 and lists every problem, each naming the schedule and the field', async () => {
    const dir = project(`${HEADER}    schedules:
      bad-cron:
        expression: cron(0 25 * * ? *)
        job: { definition: hello }
      bad-zone:
        expression: rate(1 hour)
        timezone: Mars/Olympus
        job: { definition: hello }
`);
    const out = await cli('validate', '--dir', dir);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/invalid \(2 problems\)/);
    expect(out.stderr).toMatch(/schedules\.bad-cron\.expression: .*hours/);
    expect(out.stderr).toMatch(/schedules\.bad-zone\.timezone: unknown time zone "Mars\/Olympus"/);
  });

  it('exits 2 when there is no serverless.yml', async () => {
    const dir = join(SCRATCH, randomUUID());
    mkdirSync(dir, { recursive: true });
    const out = await cli('validate', '--dir', dir);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('no serverless.yml in');
  });

  it.each([
    {
      what: 'a YAML syntax error names the file, line and column',
      yaml: 'service: demo\nprovider:\n  name: aws\ncustom:\n  batchron:\n    schedules:\n      a: {expression: [oops\n   b: 1\n',
      stderr: /serverless\.yml:8:4: YAML syntax error: .*indented/,
    },
    {
      what: 'a day 0 (Unix Sunday) says how AWS counts days',
      yaml: `${HEADER}    schedules:\n      sunday:\n        expression: cron(0 9 ? * 0 *)\n        job: { definition: hello }\n`,
      stderr: /schedules\.sunday\.expression: .*AWS numbering, 1 = Sunday.*it would mean SUN/,
    },
  ])('exits 2 when $what', async ({ yaml, stderr }) => {
    const out = await cli('validate', '--dir', project(yaml));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(stderr);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it('warns (and still exits 0) when a day-of-week uses numbers, which AWS counts from 1 = Sunday', async () => {
    const dir = project(`${HEADER}    schedules:\n      weekdays:\n        expression: cron(0 9 ? * 1-5 *)\n        job: { definition: hello }\n      named:\n        expression: cron(0 9 ? * MON-FRI *)\n        job: { definition: hello }\n`);
    const out = await cli('validate', '--dir', dir);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('warning: schedules.weekdays.expression: day-of-week "1-5" uses AWS numbering, 1 = Sunday .. 7 = Saturday: on AWS it means SUN-THU; in Unix cron (0 = Sunday, 1 = Monday) it would mean MON-FRI');
    expect(out.stderr).not.toContain('schedules.named');
  });
});
