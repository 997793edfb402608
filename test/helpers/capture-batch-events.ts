/**
 * Captures real-shaped `Batch Job State Change` events from the local Batch into
 * `events/batch/<STATUS>.json`, for tests that need one (load them through the project's
 * fixture helper, which hands out a fresh copy each time).
 *
 *   npx tsx test/helpers/capture-batch-events.ts
 *
 * The clock starts at a fixed time so regenerated samples only differ in what changed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { Clock } from '#local/clock';
import type { EventBridgeEvent } from '#local/contracts';
import { createQueue, isDone, registerDefinition, startStack, waitForJob, hasStatus } from '#test/integration/local-batch.helpers';

const OUT = join(process.cwd(), 'events', 'batch');

/** Runs a few jobs and writes one sample event per status (plus the notable failure kinds). */
async function capture(): Promise<string[]> {
  const stack = await startStack({ clock: new Clock(Date.parse('2025-01-15T02:00:00.000Z')) });
  const { client, events, batch } = stack;
  try {
    await createQueue(client, 'batchron-default');
    await registerDefinition(client, 'nightly-report', ['sh', '-c', 'echo "report for Ref::day"'], {
      parameters: { day: 'today' },
      retryStrategy: { attempts: 2, evaluateOnExit: [{ onStatusReason: 'Host EC2*', action: 'RETRY' }, { onReason: '*', action: 'EXIT' }] },
      timeout: { attemptDurationSeconds: 3600 },
    });
    await registerDefinition(client, 'load-warehouse', ['sh', '-c', 'echo "cannot connect" >&2; exit 2']);
    await registerDefinition(client, 'long-export', ['sleep', '30']);

    const ok = await client.send(
      new SubmitJobCommand({ jobName: 'nightly-report-20250115', jobQueue: 'batchron-default', jobDefinition: 'nightly-report', parameters: { day: '2025-01-15' } }),
    );
    const dependent = await client.send(
      new SubmitJobCommand({ jobName: 'load-warehouse-20250115', jobQueue: 'batchron-default', jobDefinition: 'load-warehouse', dependsOn: [{ jobId: ok.jobId! }] }),
    );
    await waitForJob(client, dependent.jobId!, isDone);

    const lost = await client.send(new SubmitJobCommand({ jobName: 'long-export-20250115', jobQueue: 'batchron-default', jobDefinition: 'long-export' }));
    await waitForJob(client, lost.jobId!, hasStatus('RUNNING'));
    batch.killJob(lost.jobId!);
    await waitForJob(client, lost.jobId!, isDone);

    const pick = (jobId: string, status: string) =>
      events.find((e) => (e.detail as { jobId: string; status: string }).jobId === jobId && (e.detail as { status: string }).status === status);
    const samples: Record<string, EventBridgeEvent | undefined> = {
      PENDING: pick(dependent.jobId!, 'PENDING'),
      RUNNABLE: pick(ok.jobId!, 'RUNNABLE'),
      STARTING: pick(ok.jobId!, 'STARTING'),
      RUNNING: pick(ok.jobId!, 'RUNNING'),
      SUCCEEDED: pick(ok.jobId!, 'SUCCEEDED'),
      FAILED: pick(dependent.jobId!, 'FAILED'),
      'FAILED-host-terminated': pick(lost.jobId!, 'FAILED'),
    };
    mkdirSync(OUT, { recursive: true });
    const written: string[] = [];
    for (const [name, event] of Object.entries(samples)) {
      if (!event) throw new Error(`no ${name} event was captured`);
      const file = join(OUT, `${name}.json`);
      writeFileSync(file, `${JSON.stringify(event, null, 2)}\n`);
      written.push(file);
    }
    return written;
  } finally {
    await stack.close();
  }
}

const written = await capture();
console.log(written.map((f) => `wrote ${f}`).join('\n'));
