/**
 * The local Batch across restarts of the stack on the same data folder: a clean stop
 * fails running jobs with a "stack stopped" reason; a crash (state on disk still says
 * RUNNING) fails them as a lost host would, and the retry strategy decides.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { FIXTURES, createQueue, describeJob, hasStatus, isDone, registerDefinition, startStack, until, waitForJob, type Stack } from './local-batch.helpers.ts';

const stacks: Stack[] = [];
let gateDir = '';
const gate = (name: string) => join(gateDir, name);

async function stackOn(dataDir?: string): Promise<Stack> {
  const s = await startStack(dataDir ? { dataDir } : {});
  stacks.push(s);
  return s;
}

beforeEach(() => {
  gateDir = mkdtempSync(join(tmpdir(), 'batchron-gates-'));
});

afterEach(async () => {
  writeFileSync(gate('never'), ''); // releases any job a failed test left running
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

describe('restart', () => {
  it('keeps job history across a stop and start, failing the job that was running with a stack-stopped reason', async () => {
    // Prepare
    const first = await stackOn();
    await createQueue(first.client, 'main');
    await registerDefinition(first.client, 'ok', ['true']);
    await registerDefinition(first.client, 'long', ['sh', FIXTURES + '/wait-for-file.sh', gate('held')]);
    const done = await first.client.send(new SubmitJobCommand({ jobName: 'done', jobQueue: 'main', jobDefinition: 'ok' }));
    await waitForJob(first.client, done.jobId!, isDone);
    const running = await first.client.send(new SubmitJobCommand({ jobName: 'running', jobQueue: 'main', jobDefinition: 'long' }));
    await waitForJob(first.client, running.jobId!, hasStatus('RUNNING'));

    // Act
    await first.close();
    const second = await stackOn(first.dataDir);
    const keptDone = await describeJob(second.client, done.jobId!);
    const keptRunning = await describeJob(second.client, running.jobId!);
    const fresh = await second.client.send(new SubmitJobCommand({ jobName: 'after-restart', jobQueue: 'main', jobDefinition: 'ok' }));
    const freshJob = await waitForJob(second.client, fresh.jobId!, isDone);

    // Assess
    expect(keptDone.status).toBe('SUCCEEDED');
    expect(keptRunning.status).toBe('FAILED');
    expect(keptRunning.statusReason).toMatch(/^Host EC2 \(instance i-[0-9a-z]+\) terminated\. \(The local stack stopped: .*SIGKILL after \d+ ms\.\)$/);
    expect(keptRunning.attempts).toHaveLength(1);
    expect(freshJob.status).toBe('SUCCEEDED');
    expect(fresh.jobId).not.toBe(done.jobId);
  });

  it('fails a job the state file still shows RUNNING after a crash as a lost host, then retries it', async () => {
    // Prepare: a job running on the first stack, and a copy of the state as it is on disk mid-run.
    const first = await stackOn();
    await createQueue(first.client, 'main');
    await registerDefinition(first.client, 'resilient', ['sh', '-c', `[ "$AWS_BATCH_JOB_ATTEMPT" = 2 ] || sh ${FIXTURES}/wait-for-file.sh ${gate('never')}`], {
      retryStrategy: { attempts: 2, evaluateOnExit: [{ onStatusReason: 'Host EC2*', action: 'RETRY' }] },
    });
    const { jobId } = await first.client.send(new SubmitJobCommand({ jobName: 'resilient', jobQueue: 'main', jobDefinition: 'resilient' }));
    await waitForJob(first.client, jobId!, hasStatus('RUNNING'));
    const stateFile = join(first.dataDir, 'state', 'batch.json');
    await until(() => existsSync(stateFile) && readFileSync(stateFile, 'utf8').includes('"status":"RUNNING"'), 'the RUNNING state on disk');
    const crashedDir = mkdtempSync(join(tmpdir(), 'batchron-crashed-'));
    cpSync(join(first.dataDir, 'state'), join(crashedDir, 'state'), { recursive: true });

    // Act
    const second = await stackOn(crashedDir);
    const job = await waitForJob(second.client, jobId!, isDone);

    // Assess
    expect(job.status).toBe('SUCCEEDED');
    expect(job.attempts).toHaveLength(2);
    expect(job.attempts![0]!.statusReason).toMatch(/^Host EC2 \(instance i-[0-9a-f]{17}\) terminated\.$/);
    expect(second.events.map((e) => (e.detail as { status: string }).status)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
  });
});
