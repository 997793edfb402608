/**
 * The local event bus with the real local Lambda runtime behind it: rule matching,
 * target input shaping, Lambda's async retries, and the injected delivery faults.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Clock } from '#local/clock';
import { Faults } from '#local/faults';
import type { EventBridgeEvent } from '#local/contracts';
import { startEndpoint, type Endpoint } from '#local/endpoint';
import { LocalLambda } from '#local/lambda';
import { LocalEventBus, type BusActivity } from '#local/eventbus';

const clocks: Clock[] = [];
afterEach(() => {
  for (const c of clocks.splice(0)) c.dispose();
});

function bus() {
  const clock = new Clock(Date.parse('2026-03-01T12:00:00Z'));
  clocks.push(clock);
  const faults = new Faults(() => clock.now(), 7);
  const lambda = new LocalLambda({ clock, faults });
  const eventBus = new LocalEventBus({ clock, faults, lambda });
  const received: unknown[] = [];
  const arn = lambda.register('target', async (event: unknown) => {
    received.push(event);
  });
  const activity: BusActivity[] = [];
  eventBus.onEvent((a) => activity.push(a));
  const settle = async () => {
    await eventBus.idle();
    await lambda.idle();
  };
  return { clock, faults, lambda, bus: eventBus, received, arn, activity, settle };
}

let seq = 0;
function jobEvent(status: string, extra: Record<string, unknown> = {}): EventBridgeEvent {
  seq += 1;
  return {
    version: '0',
    id: `event-${seq}`,
    'detail-type': 'Batch Job State Change',
    source: 'aws.batch',
    account: '000000000000',
    time: '2026-03-01T12:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:batch:us-east-1:000000000000:job/job-${seq}`],
    detail: { jobId: `job-${seq}`, jobName: 'batchron-dev-nightly', status, seq, ...extra },
  };
}

const jobEvents = { source: ['aws.batch'], 'detail-type': ['Batch Job State Change'], detail: { status: ['SUCCEEDED', 'FAILED'] } };
const seqOf = (e: unknown) => (e as { detail: { seq: number } }).detail.seq;

describe('LocalEventBus rules', () => {
  it('delivers a matching event to the rule\'s Lambda target and nothing else', async () => {
    // Prepare
    const { bus: eventBus, received, arn, activity, settle } = bus();
    eventBus.putRule({ name: 'job-events', pattern: jobEvents, targets: [{ id: 'fn', arn }] });
    const done = jobEvent('SUCCEEDED');

    // Act
    eventBus.publish(jobEvent('RUNNING'));
    eventBus.publish(done);
    await settle();

    // Assess
    expect(received).toEqual([done]);
    expect(activity.filter((a) => a.kind === 'published').map((a) => (a as { rules: string[] }).rules)).toEqual([[], ['job-events']]);
    expect(activity.filter((a) => a.kind === 'delivered')).toHaveLength(1);
  });

  it('sends the target\'s constant Input or the InputPath selection instead of the event', async () => {
    const { bus: eventBus, received, arn, settle } = bus();
    eventBus.putRule({
      name: 'shaped',
      pattern: { source: ['aws.batch'] },
      targets: [
        { id: 'constant', arn, input: '{"kind":"constant"}' },
        { id: 'path', arn, inputPath: '$.detail.status' },
      ],
    });

    eventBus.publish(jobEvent('FAILED'));
    await settle();

    expect(received).toEqual(expect.arrayContaining([{ kind: 'constant' }, 'FAILED']));
    expect(received).toHaveLength(2);
  });

  it('delivers nothing for a disabled rule or after the rule is removed', async () => {
    const { bus: eventBus, received, arn, settle } = bus();
    eventBus.putRule({ name: 'off', pattern: jobEvents, targets: [{ id: 'fn', arn }], enabled: false });
    eventBus.putRule({ name: 'removed', pattern: jobEvents, targets: [{ id: 'fn', arn }] });
    eventBus.removeRule('removed');

    eventBus.publish(jobEvent('SUCCEEDED'));
    await settle();

    expect(received).toEqual([]);
  });

  it('rejects an invalid pattern when the rule is put', () => {
    const { bus: eventBus, arn } = bus();

    expect(() => eventBus.putRule({ name: 'bad', pattern: { source: 'aws.batch' }, targets: [{ id: 'fn', arn }] })).toThrow(
      /array of matchers/,
    );
  });

  it('lets Lambda retry a target that fails, on the clock', async () => {
    const { clock, lambda, bus: eventBus, settle } = bus();
    let calls = 0;
    const arn = lambda.register('fails-once', async () => {
      calls += 1;
      if (calls === 1) throw new Error('transient');
    });
    eventBus.putRule({ name: 'r', pattern: jobEvents, targets: [{ id: 'fn', arn }] });

    eventBus.publish(jobEvent('FAILED'));
    await settle();
    expect(calls).toBe(1);
    clock.advance(60_000);
    await settle();

    expect(calls).toBe(2);
  });

  it('reports a target that is not a Lambda function as a failed delivery', async () => {
    const { bus: eventBus, activity, faults, settle } = bus();
    eventBus.putRule({ name: 'sqs', pattern: jobEvents, targets: [{ id: 'q', arn: 'arn:aws:sqs:us-east-1:000000000000:q' }] });

    eventBus.publish(jobEvent('FAILED'));
    await settle();

    expect(activity.find((a) => a.kind === 'failed')).toMatchObject({ rule: 'sqs', targetId: 'q' });
    expect(faults.counters.get('event:failed')).toBe(1);
  });
});

describe('LocalEventBus delivery faults', () => {
  it('delivers every event twice at a duplicate rate of 1 and counts it', async () => {
    const { bus: eventBus, faults, received, arn, settle } = bus();
    eventBus.putRule({ name: 'r', pattern: jobEvents, targets: [{ id: 'fn', arn }] });
    faults.setEventFaults({ duplicateRate: 1 });

    const published = [jobEvent('SUCCEEDED'), jobEvent('FAILED')];

    for (const e of published) eventBus.publish(e);
    await settle();

    const [a, b] = published.map(seqOf);
    expect(received.map(seqOf).sort()).toEqual([a, a, b, b]);
    expect(faults.counters.get('event:duplicated')).toBe(2);
  });

  it('delivers nothing at a drop rate of 1 and counts the drops', async () => {
    const { bus: eventBus, faults, received, arn, activity, settle } = bus();
    eventBus.putRule({ name: 'r', pattern: jobEvents, targets: [{ id: 'fn', arn }] });
    faults.setEventFaults({ dropRate: 1 });

    for (let i = 0; i < 3; i++) eventBus.publish(jobEvent('SUCCEEDED'));
    await settle();

    expect(received).toEqual([]);
    expect(faults.counters.get('event:dropped')).toBe(3);
    expect(activity.filter((a) => a.kind === 'dropped')).toHaveLength(3);
  });

  it('holds a delayed event until the clock passes the delay', async () => {
    const { clock, bus: eventBus, faults, received, arn, lambda } = bus();
    eventBus.putRule({ name: 'r', pattern: jobEvents, targets: [{ id: 'fn', arn }] });
    faults.setEventFaults({ delayRate: 1, delayMs: [600_000, 600_000] });

    eventBus.publish(jobEvent('SUCCEEDED'));
    await lambda.idle();
    expect(received).toEqual([]);
    expect(eventBus.isIdle()).toBe(false);

    clock.advance(600_000);
    await eventBus.idle();
    await lambda.idle();

    expect(received).toHaveLength(1);
    expect(faults.counters.get('event:delayed')).toBe(1);
  });

  it('swaps consecutive events for a target at a reorder rate of 1', async () => {
    const { bus: eventBus, faults, received, arn, settle } = bus();
    eventBus.putRule({ name: 'r', pattern: jobEvents, targets: [{ id: 'fn', arn }] });
    faults.setEventFaults({ reorderRate: 1 });
    const published = [1, 2, 3, 4].map(() => jobEvent('SUCCEEDED'));

    for (const e of published) eventBus.publish(e);
    await settle();

    const order = published.map((e) => seqOf(e));
    expect(received.map(seqOf)).toEqual([order[1], order[0], order[3], order[2]]);
    expect(faults.counters.get('event:reordered')).toBe(2);
  });

  it('replays the same faults for the same seed', async () => {
    const run = async () => {
      const { bus: eventBus, faults, received, arn, settle } = bus();
      eventBus.putRule({ name: 'r', pattern: jobEvents, targets: [{ id: 'fn', arn }] });
      faults.seed(42);
      faults.setEventFaults({ dropRate: 0.3, duplicateRate: 0.3 });
      const events = Array.from({ length: 20 }, (_, i) => jobEvent('SUCCEEDED', { i }));
      for (const e of events) eventBus.publish(e);
      await settle();
      return received.map((e) => (e as { detail: { i: number } }).detail.i).sort((a, b) => a - b);
    };

    expect(await run()).toEqual(await run());
  });
});

describe('EventBridge API of the local bus', () => {
  let endpoint: Endpoint | undefined;
  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });

  function call(url: string, operation: string, body: unknown) {
    return fetch(url, {
      method: 'POST',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 Credential=test/20260301/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSEvents.${operation}`,
      },
      body: JSON.stringify(body),
    });
  }

  it('declares a rule and target, then delivers a PutEvents entry to it', async () => {
    const { bus: eventBus, received, arn, settle } = bus();
    endpoint = await startEndpoint({ port: 0, services: [eventBus] });

    const rule = await call(endpoint.url, 'PutRule', { Name: 'custom', EventPattern: JSON.stringify({ source: ['my.app'] }) });
    const targets = await call(endpoint.url, 'PutTargets', { Rule: 'custom', Targets: [{ Id: 'fn', Arn: arn }] });
    const put = await call(endpoint.url, 'PutEvents', {
      Entries: [{ Source: 'my.app', DetailType: 'Thing Happened', Detail: JSON.stringify({ n: 1 }) }],
    });
    await settle();

    expect(rule.status).toBe(200);
    expect(await rule.json()).toEqual({ RuleArn: 'arn:aws:events:us-east-1:000000000000:rule/custom' });
    expect(targets.status).toBe(200);
    expect(await put.json()).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    expect(received).toMatchObject([{ source: 'my.app', 'detail-type': 'Thing Happened', detail: { n: 1 }, version: '0' }]);
  });

  it('answers InvalidEventPatternException for a bad pattern', async () => {
    const { bus: eventBus } = bus();
    endpoint = await startEndpoint({ port: 0, services: [eventBus] });

    const res = await call(endpoint.url, 'PutRule', { Name: 'bad', EventPattern: '{"source": "not-an-array"}' });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'InvalidEventPatternException' });
  });

  it('answers TestEventPattern with the local matcher', async () => {
    const { bus: eventBus } = bus();
    endpoint = await startEndpoint({ port: 0, services: [eventBus] });

    const res = await call(endpoint.url, 'TestEventPattern', {
      EventPattern: JSON.stringify({ detail: { status: [{ prefix: 'SUCC' }] } }),
      Event: JSON.stringify(jobEvent('SUCCEEDED')),
    });

    expect(await res.json()).toEqual({ Result: true });
  });
});
