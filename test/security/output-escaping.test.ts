/**
 * Text from jobs and API callers cannot hijack what people read (issue 16, "Output that
 * cannot be hijacked"): a status reason or a schedule name that carries Slack markup
 * (`<!channel>`, `<http://evil|link>`) reaches Slack as words, and terminal escape
 * sequences reach a terminal as visible text, through the real notifier and the real CLI.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureMessage, recoveryMessage, stuckMessage } from '#shared/notify/messages';
import { slackNotifier } from '#shared/notify/slack';
import { RunItemSchema, type RunItem } from '#shared/store/schema';
import { loadEvent } from '#test/helpers/events';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/batchron.mjs', import.meta.url));

const PING = '<!channel> <!here> <@U0123ABC>';
const LINK = '<http://evil.example/|open your logs>';
const CLEAR = '\x1b[2J\x1b[H';
const TITLE = '\x1b]0;owned\x07';
const CLIPBOARD = '\x1b]52;c;cm0gLXJmIH4=\x07';
const REWRITE = 'ok\rFAILED';
const BIDI = '\u202Edaolnwod';
const HOSTILE = `${PING} ${LINK} ${CLEAR}${TITLE}${CLIPBOARD} ${REWRITE} ${BIDI} \x9b31m`;

function hostileRun(): RunItem {
  const definition = loadEvent('engine', 'definition-single');
  const at = '2026-11-23T02:00:00.000Z';
  return RunItemSchema.parse({
    pk: 'RUN#x',
    sk: 'RUN',
    gsi1pk: 'SCHED#x',
    gsi1sk: at,
    kind: 'run',
    runId: 'nightly-report.20261123T020000Z',
    schedule: `nightly-report ${PING}`,
    scheduledTime: at,
    trigger: 'schedule',
    parameters: { day: HOSTILE },
    definition,
    status: 'FAILED',
    statusReason: HOSTILE,
    tasks: {
      main: {
        name: 'main',
        phase: 'main',
        status: 'FAILED',
        reason: HOSTILE,
        attempts: [{ attempt: 1, jobName: 'j', status: 'FAILED', exitCode: 1, statusReason: HOSTILE, logStreamName: `stream/${LINK}` }],
      },
    },
    createdAt: at,
    updatedAt: at,
    endedAt: '2026-11-23T02:01:00.000Z',
    settled: true,
    finalized: false,
    version: 3,
  });
}

/** What a Slack message must never contain: markup Slack would act on, or control characters. */
function expectInert(text: string): void {
  expect(text).not.toMatch(/<[!@#]|<https?:|<mailto:/);
  expect(text).not.toMatch(/[<>]/);
  expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
}

describe('Slack', () => {
  let server: Server;
  let url: string;
  const received: { text: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push(JSON.parse(body) as { text: string });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T/B/X`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('receives failure, recovery and stuck messages whose job and user text cannot ping, link or escape', async () => {
    const hostile = hostileRun();
    const notifier = slackNotifier({ url, log: { warn: () => undefined } as never });
    await notifier.send(failureMessage(hostile, { region: 'us-east-1', logGroup: '/aws/batch/job' }));
    await notifier.send(recoveryMessage(hostile));
    await notifier.send(stuckMessage(hostile, 'RUNNING', 30));
    expect(received).toHaveLength(3);
    for (const { text } of received) expectInert(text);
    // The words are all still there, as text.
    expect(received[0]!.text).toContain('Status reason: &lt;!channel&gt; &lt;!here&gt; &lt;@U0123ABC&gt; &lt;http://evil.example/|open your logs&gt;');
    expect(received[1]!.text).toContain('*nightly-report &lt;!channel&gt;');
  });
});

describe('terminal (the CLI)', () => {
  let server: Server;
  let api: string;

  beforeAll(async () => {
    const hostile = hostileRun();
    const attempt = hostile.tasks.main!.attempts[0]!;
    const view = {
      runId: hostile.runId,
      schedule: hostile.schedule,
      scheduledTime: hostile.scheduledTime,
      trigger: 'schedule',
      status: 'FAILED',
      statusReason: HOSTILE,
      parameters: hostile.parameters,
      createdAt: hostile.createdAt,
      updatedAt: hostile.updatedAt,
      endedAt: hostile.endedAt,
      tasks: [{ name: 'main', phase: 'main', status: 'FAILED', reason: HOSTILE, dependsOn: [], attempts: [{ ...attempt, jobId: 'job-1', log: { group: '/aws/batch/job', stream: attempt.logStreamName } }] }],
    };
    const answers: Record<string, [number, unknown]> = {
      '/runs/r1': [200, view],
      '/runs/r1/logs': [200, { task: 'main', attempt: 1, jobId: 'job-1', status: 'FAILED', log: { group: 'g', stream: 's' }, events: [{ timestamp: 0, message: `line ${HOSTILE}` }] }],
      '/runs/gone': [404, { error: { code: 'NotFound', message: `Run '${HOSTILE}' does not exist.` } }],
      '/schedules': [200, { schedules: [{ name: 'dyn', origin: 'api', description: HOSTILE, expression: 'rate(1 hour)', timezone: 'UTC', overlap: 'allow', enabled: true, paused: false, nextFireTimes: [], nextFireTimesLocal: [], parameters: {}, tasks: [{ name: 'main', dependsOn: [], jobDefinition: 'd', jobQueue: 'q', command: ['sh', HOSTILE], commandFrom: 'jobDefinition' }], onFailure: [], tags: {} }] }],
    };
    server = createServer((req, res) => {
      const [status, body] = answers[new URL(req.url ?? '/', 'http://x').pathname] ?? [404, { error: { code: 'NotFound', message: 'no' } }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function cli(...args: string[]): Promise<string> {
    const out = await run(process.execPath, [BIN, ...args, '--api', api], { env: { ...process.env, NO_COLOR: '1', BATCHRON_API_TOKEN: 't' } }).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    return `${out.stdout}${out.stderr}`;
  }

  it('prints escape sequences as visible text, never raw: run, logs, an error message, schedules', async () => {
    // Four CLI processes at once: each takes seconds to start on a loaded machine.
    const commands: [string, string[]][] = [
      ['run', ['run', 'r1']],
      ['logs', ['logs', 'r1', '-t', 'main']],
      ['an error message', ['run', 'gone']],
      ['schedules', ['schedules']],
    ];
    const outputs = await Promise.all(commands.map(([, args]) => cli(...args)));
    commands.forEach(([what], i) => {
      const output = outputs[i]!;
      expect(output, what).toContain('\\x1b[2J');
      expect(output, what).toContain('\\x1b]52;c;');
      expect(output, what).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    });
  });
});
