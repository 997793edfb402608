/**
 * The local Lambda runtime: async retries on the Clock, event age, timeouts, concurrency,
 * the Lambda context, and the Invoke API over HTTP through the stack's endpoint.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Clock } from '#local/clock';
import { Faults } from '#local/faults';
import { AwsError } from '#local/contracts';
import { startEndpoint, type Endpoint } from '#local/endpoint';
import { FunctionError, LocalLambda, type DiscardRecord, type InvocationRecord } from '#local/lambda';

const START = Date.parse('2026-03-01T12:00:00Z');

function runtime(opts: { retryDelaysMs?: number[] } = {}) {
  const clock = new Clock(START);
  const faults = new Faults(() => clock.now());
  const lambda = new LocalLambda({ clock, faults, ...opts });
  const invocations: InvocationRecord[] = [];
  const discards: DiscardRecord[] = [];
  lambda.onInvoke((r) => invocations.push(r));
  lambda.onDiscard((r) => discards.push(r));
  return { clock, faults, lambda, invocations, discards };
}

const clocks: Clock[] = [];
afterEach(() => {
  for (const c of clocks.splice(0)) c.dispose();
});

describe('LocalLambda async invoke', () => {
  it('retries a failing event twice, after 60 s and then 120 s of clock time, then discards it', async () => {
    // Prepare
    const { clock, lambda, invocations, discards } = runtime();
    clocks.push(clock);
    lambda.register('flaky', async () => {
      throw new Error('boom');
    });

    // Act: first attempt
    await lambda.invokeAsync('flaky', { n: 1 });
    await lambda.idle();

    // Assess
    expect(invocations.map((r) => r.attempt)).toEqual([1]);
    expect(invocations[0]).toMatchObject({ ok: false, willRetry: true, error: 'Error: boom' });
    expect(lambda.pendingRetries()).toBe(1);

    // The clock also moves in real time, so each check leaves a few seconds of slack.
    clock.advance(55_000);
    await lambda.idle();
    expect(invocations).toHaveLength(1);
    clock.advance(5_000);
    await lambda.idle();
    expect(invocations.map((r) => r.attempt)).toEqual([1, 2]);

    clock.advance(115_000);
    await lambda.idle();
    expect(invocations).toHaveLength(2);
    clock.advance(5_000);
    await lambda.idle();

    expect(invocations.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(invocations[2]).toMatchObject({ ok: false, willRetry: false });
    expect(new Set(invocations.map((r) => r.requestId)).size).toBe(1);
    expect(discards).toEqual([{ name: 'flaky', requestId: invocations[0]!.requestId, reason: 'RetriesExhausted', payload: { n: 1 } }]);
    expect(lambda.pendingRetries()).toBe(0);
    expect(lambda.stats().flaky).toMatchObject({ invocations: 3, errors: 3, retries: 2, discarded: 1 });
  });

  it('uses the configured retry delays', async () => {
    const { clock, lambda, invocations } = runtime({ retryDelaysMs: [10_000, 50_000] });
    clocks.push(clock);
    lambda.register('flaky', async () => {
      throw new Error('boom');
    });

    await lambda.invokeAsync('flaky', {});
    await lambda.idle();
    clock.advance(10_000);
    await lambda.idle();
    clock.advance(45_000);
    await lambda.idle();
    expect(invocations).toHaveLength(2);
    clock.advance(5_000);
    await lambda.idle();

    expect(invocations).toHaveLength(3);
  });

  it('stops retrying once an attempt succeeds', async () => {
    const { clock, lambda, invocations, discards } = runtime();
    clocks.push(clock);
    let calls = 0;
    lambda.register('once-flaky', async () => {
      calls += 1;
      if (calls === 1) throw new Error('first time fails');
      return 'ok';
    });

    await lambda.invokeAsync('once-flaky', {});
    await lambda.idle();
    clock.advance(60_000);
    await lambda.idle();
    clock.advance(600_000);
    await lambda.idle();

    expect(invocations.map((r) => [r.attempt, r.ok])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(discards).toEqual([]);
  });

  it('discards an event whose next retry would exceed the maximum event age', async () => {
    const { clock, lambda, invocations, discards } = runtime();
    clocks.push(clock);
    lambda.register('short-lived', async () => {
      throw new Error('boom');
    }, { maximumEventAgeMs: 90_000 });

    await lambda.invokeAsync('short-lived', {});
    await lambda.idle();
    clock.advance(60_000);
    await lambda.idle();

    expect(invocations).toHaveLength(2);
    expect(discards.map((d) => d.reason)).toEqual(['EventAgeExceeded']);
    expect(lambda.pendingRetries()).toBe(0);
  });

  it('counts a handler that runs past its timeout as an error', async () => {
    const { clock, lambda, invocations } = runtime();
    clocks.push(clock);
    lambda.register('slow', () => new Promise(() => undefined), { timeoutMs: 20 });

    await lambda.invokeAsync('slow', {});
    await lambda.idle();

    expect(invocations[0]).toMatchObject({ ok: false, error: 'Sandbox.Timedout: Task timed out after 0.02 seconds', willRetry: true });
  });

  it('queues async events beyond the reserved concurrency and runs them all', async () => {
    const { clock, lambda } = runtime();
    clocks.push(clock);
    let running = 0;
    let maxRunning = 0;
    const done: number[] = [];
    lambda.register(
      'capped',
      async (event: { n: number }) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        done.push(event.n);
      },
      { reservedConcurrency: 2 },
    );

    for (let n = 0; n < 6; n++) await lambda.invokeAsync('capped', { n });
    await lambda.idle();

    expect(maxRunning).toBe(2);
    expect(done.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('rejects an async invoke of a function that does not exist', async () => {
    const { clock, lambda } = runtime();
    clocks.push(clock);

    await expect(lambda.invokeAsync('nope', {})).rejects.toMatchObject({ code: 'ResourceNotFoundException', status: 404 });
  });

  it('answers the throttling error when Invoke is throttled', async () => {
    const { clock, faults, lambda } = runtime();
    clocks.push(clock);
    lambda.register('fn', async () => 1);
    faults.throttle('lambda', 'Invoke', 1);

    const results = await Promise.allSettled([1, 2, 3, 4].map(() => lambda.invokeAsync('fn', {})));

    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected[0]!.reason).toBeInstanceOf(AwsError);
    expect(rejected[0]!.reason).toMatchObject({ code: 'TooManyRequestsException', status: 429 });
  });
});

describe('LocalLambda sync invoke and context', () => {
  it('returns the handler result and gives it a Lambda-like context', async () => {
    const { clock, lambda } = runtime();
    clocks.push(clock);
    const arn = lambda.register('echo', async (event: unknown, context) => ({
      event,
      functionName: context.functionName,
      arn: context.invokedFunctionArn,
      requestId: context.awsRequestId,
      remaining: context.getRemainingTimeInMillis(),
      logGroup: context.logGroupName,
    }), { timeoutMs: 10_000 });

    const result = (await lambda.invoke(arn, { hello: 'world', when: new Date(START) })) as Record<string, unknown>;

    expect(arn).toBe('arn:aws:lambda:us-east-1:000000000000:function:echo');
    // The payload crosses a JSON boundary, as on AWS.
    expect(result.event).toEqual({ hello: 'world', when: '2026-03-01T12:00:00.000Z' });
    expect(result).toMatchObject({ functionName: 'echo', arn, logGroup: '/aws/lambda/echo' });
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.remaining).toBeGreaterThan(0);
    expect(result.remaining).toBeLessThanOrEqual(10_000);
  });

  it('rejects with the function error', async () => {
    const { clock, lambda } = runtime();
    clocks.push(clock);
    class PolicyError extends Error {
      override name = 'PolicyError';
    }
    lambda.register('bad', async () => {
      throw new PolicyError('not allowed');
    });

    const error = await lambda.invoke('bad', {}).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FunctionError);
    expect(error).toMatchObject({ errorType: 'PolicyError', errorMessage: 'not allowed' });
  });

  it('supports callback-style handlers', async () => {
    const { clock, lambda } = runtime();
    clocks.push(clock);
    lambda.register('cb', (_event, _context, callback) => {
      setTimeout(() => callback?.(null, { via: 'callback' }), 1);
    });

    await expect(lambda.invoke('cb', {})).resolves.toEqual({ via: 'callback' });
  });

  it('throttles a sync invoke while the reserved concurrency is taken', async () => {
    const { clock, lambda } = runtime();
    clocks.push(clock);
    let release: () => void = () => undefined;
    lambda.register('single', () => new Promise<void>((r) => (release = r)), { reservedConcurrency: 1 });

    const first = lambda.invoke('single', {});
    const second = await lambda.invoke('single', {}).catch((e: unknown) => e);
    release();
    await first;

    expect(second).toMatchObject({ code: 'TooManyRequestsException', status: 429 });
    expect(lambda.stats().single!.throttles).toBe(1);
  });

  it('runs an async event that waited for the slot a sync invoke held', async () => {
    const { clock, lambda, invocations } = runtime();
    clocks.push(clock);
    let release: () => void = () => undefined;
    let calls = 0;
    lambda.register(
      'single',
      () => {
        calls += 1;
        return calls === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
      { reservedConcurrency: 1 },
    );

    const sync = lambda.invoke('single', { kind: 'sync' });
    await lambda.invokeAsync('single', { kind: 'async' });
    const idle = lambda.idle();
    release();
    await sync;
    await idle;

    expect(invocations.map((r) => [r.async, r.ok])).toEqual([
      [false, true],
      [true, true],
    ]);
  });

  it.each([
    'named',
    'named:$LATEST',
    'named:live',
    'arn:aws:lambda:us-east-1:000000000000:function:named',
    'arn:aws:lambda:us-east-1:000000000000:function:named:$LATEST',
    '000000000000:function:named',
  ])('finds a function by %s', (ref) => {
    const { clock, lambda } = runtime();
    clocks.push(clock);
    lambda.register('named', async () => undefined);

    expect(lambda.has(ref)).toBe(true);
    expect(lambda.has('other')).toBe(false);
  });
});

describe('Lambda Invoke API over HTTP', () => {
  let endpoint: Endpoint | undefined;
  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });

  async function serve() {
    const r = runtime();
    clocks.push(r.clock);
    endpoint = await startEndpoint({ port: 0, services: [r.lambda] });
    return { ...r, url: endpoint.url };
  }

  /** What the AWS CLI and SDK send: a SigV4 credential scope naming the `lambda` service. */
  function invoke(url: string, name: string, payload: unknown, type?: string) {
    return fetch(`${url}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
      method: 'POST',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260301/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000',
        'content-type': 'application/json',
        ...(type ? { 'x-amz-invocation-type': type } : {}),
      },
      body: JSON.stringify(payload),
    });
  }

  it('answers a RequestResponse invoke with the handler result', async () => {
    const { lambda, url } = await serve();
    lambda.register('add', async (e: { a: number; b: number }) => ({ sum: e.a + e.b }));

    const res = await invoke(url, 'add', { a: 2, b: 3 });

    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBeNull();
    expect(await res.json()).toEqual({ sum: 5 });
  });

  it('answers 202 to an Event invoke and runs the handler', async () => {
    const { lambda, url, invocations } = await serve();
    lambda.register('later', async () => 'done');

    const res = await invoke(url, 'arn:aws:lambda:us-east-1:000000000000:function:later', {}, 'Event');
    await lambda.idle();

    expect(res.status).toBe(202);
    expect(invocations).toMatchObject([{ name: 'later', async: true, ok: true }]);
  });

  it('reports a function error in the X-Amz-Function-Error header', async () => {
    const { lambda, url } = await serve();
    lambda.register('fails', async () => {
      throw new TypeError('bad input');
    });

    const res = await invoke(url, 'fails', {});

    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.json()).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
  });

  it('answers ResourceNotFoundException for an unknown function', async () => {
    const { url } = await serve();

    const res = await invoke(url, 'missing', {});

    expect(res.status).toBe(404);
    expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('function:missing') });
  });
});
