/**
 * Limits as AWS has them, on the local stack's listeners: request bodies capped per
 * service with AWS's own errors, authentication before a body is read, deeply nested JSON
 * answered with a 4xx, slow clients cut off, a cap on open connections. The timeouts are
 * set short here (the defaults are for people) so the tests take seconds.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpApi, type HttpApi } from '#local/http-api';
import { startTestStack, type TestStack } from '#test/helpers/stack';
import { closedWithin, openSocket, raw, sigv4 } from './helpers.ts';

const limits = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 };
let t: TestStack;
let api: HttpApi;
let invoked = 0;
const sockets: Socket[] = [];

beforeAll(async () => {
  t = await startTestStack({ limits });
  // A function that reads its JSON body, as the `api` function does.
  t.stack.lambda.register('limits-fn', async (event: { body?: string }) => {
    invoked++;
    const parsed: unknown = event?.body ? JSON.parse(event.body) : event;
    return { statusCode: 200, body: JSON.stringify(parsed).slice(0, 100) };
  });
  api = await startHttpApi({
    port: 0,
    token: 'the-token-of-the-limits-test',
    lambda: t.stack.lambda,
    routes: [{ method: 'ANY', path: '/{proxy+}', functionName: 'limits-fn' }],
    limits,
  });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await api?.close();
  await t?.stop();
});

const local = (port: number) => `127.0.0.1:${port}`;
const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('request bodies on the AWS endpoint', () => {
  it('are capped per service with AWS\'s errors: Lambda 6 MB sync / 1 MB async, Batch 30 KiB, the control API', async () => {
    // Prepare
    const before = invoked;
    const string = (bytes: number) => JSON.stringify('a'.repeat(bytes - 2));
    const invoke = (body: string, type = 'RequestResponse') =>
      raw(t.stack.port, {
        path: '/2015-03-31/functions/limits-fn/invocations',
        headers: { host: local(t.stack.port), authorization: sigv4('lambda'), 'x-amz-invocation-type': type, 'content-type': 'application/json' },
        body,
      });

    // Act
    const sync = await invoke(string(6 * 1024 * 1024 + 1));
    const async = await invoke(string(1024 * 1024 + 1), 'Event');
    const submit = await raw(t.stack.port, {
      path: '/v1/submitjob',
      headers: { host: local(t.stack.port), authorization: sigv4('batch'), 'content-type': 'application/json' },
      body: JSON.stringify({ jobName: 'big', jobQueue: 'q', jobDefinition: 'd', parameters: { blob: 'b'.repeat(31 * 1024) } }),
    });
    const control = await raw(t.stack.port, {
      path: '/_batchron/clock',
      headers: { host: local(t.stack.port), authorization: `Bearer ${t.stack.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMs: 1, pad: 'p'.repeat(65 * 1024) }),
    });
    const withinLimit = await invoke(string(1024));

    // Assess
    expect(sync.status).toBe(413);
    expect(sync.headers['x-amzn-errortype']).toBe('RequestEntityTooLargeException');
    expect(sync.json().message).toBe('Request must be smaller than 6291456 bytes for the InvokeFunction operation.');
    expect(async.status).toBe(413);
    expect(async.json().message).toContain('too large for the Event invocation type (limit 1048576 bytes)');
    expect(submit.status).toBe(413);
    expect(submit.headers['x-amzn-errortype']).toBe('RequestEntityTooLargeException');
    expect(control.status).toBe(413);
    expect(withinLimit.status).toBe(200);
    expect(invoked - before).toBe(1);
  });

  it('answer 200,000-deep JSON with a 400, never a 500, on the AWS endpoint and the HTTP API', async () => {
    // Prepare
    const deep = deepJson(200_000);
    const before = invoked;

    // Act
    const invoke = await raw(t.stack.port, {
      path: '/2015-03-31/functions/limits-fn/invocations',
      headers: { host: local(t.stack.port), authorization: sigv4('lambda'), 'content-type': 'application/json' },
      body: deep,
    });
    const events = await raw(t.stack.port, {
      headers: { host: local(t.stack.port), authorization: sigv4('events'), 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' },
      body: `{"Entries":${deep}}`,
    });
    const http = await raw(api.port, {
      path: '/schedules',
      headers: { host: local(api.port), authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: deep,
    });

    // Assess
    expect(invoke.status).toBe(400);
    expect(invoke.headers['x-amzn-errortype']).toBe('InvalidRequestContentException');
    expect(events.status).toBe(400);
    expect(events.headers['x-amzn-errortype']).toBe('SerializationException');
    expect(http.status).toBe(400);
    expect(http.json()).toMatchObject({ error: { message: 'The request body nests JSON deeper than 1000 levels.' } });
    expect(invoked).toBe(before);
  });
});

describe('the HTTP API', () => {
  it('answers an unauthenticated request 401 before reading its body, and caps an authenticated one at 10 MB', async () => {
    // Prepare: headers announcing 9 MB, then only a few bytes of it.
    const socket = await openSocket(api.port);
    sockets.push(socket);
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });

    // Act
    socket.write(`POST /schedules HTTP/1.1\r\nHost: ${local(api.port)}\r\nContent-Type: application/json\r\nContent-Length: ${9 * 1024 * 1024}\r\n\r\n{"a":`);
    const head = await Promise.race([answer, new Promise<string>((r) => setTimeout(() => r('no answer within 1.5 s'), 1_500))]);
    const tooLarge = await raw(api.port, {
      path: '/schedules',
      headers: { host: local(api.port), authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify('x'.repeat(10 * 1024 * 1024)),
    });

    socket.destroy();

    // Assess
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    expect(tooLarge.status).toBe(413);
  });
});

describe('slow and many clients', () => {
  it('cuts off a client that sends its headers or its body too slowly, on both ports', async () => {
    // Prepare: one header line every 300 ms, or a declared body one byte every 300 ms.
    const slowHeaders = async (port: number) => {
      const s = await openSocket(port);
      sockets.push(s);
      s.write(`GET /schedules HTTP/1.1\r\nHost: ${local(port)}\r\n`);
      const timer = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 300);
      return closedWithin(s, 6_000).finally(() => clearInterval(timer));
    };
    const slowBody = async (port: number, auth: string) => {
      const s = await openSocket(port);
      sockets.push(s);
      s.write(`POST /v1/listjobs HTTP/1.1\r\nHost: ${local(port)}\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
      const timer = setInterval(() => s.writable && s.write(' '), 300);
      return closedWithin(s, 8_000).finally(() => clearInterval(timer));
    };

    // Act
    const closedAfter = await Promise.all([
      slowHeaders(t.stack.port),
      slowHeaders(api.port),
      slowBody(t.stack.port, sigv4('batch')),
      slowBody(api.port, `Bearer ${api.token}`),
    ]);

    // Assess: each connection was closed by the server (closedWithin rejects otherwise).
    expect(closedAfter).toHaveLength(4);
  });

  it('closes connections past the cap at once, and listeners default to bounded timeouts', async () => {
    // Prepare: an HTTP API with the default timeouts and room for three connections, all taken.
    const capped = await startHttpApi({ port: 0, token: 'the-token-of-the-limits-test', lambda: t.stack.lambda, routes: [], limits: { maxConnections: 3 } });
    const held = await Promise.all([openSocket(capped.port), openSocket(capped.port), openSocket(capped.port)]);
    sockets.push(...held);
    await new Promise((r) => setTimeout(r, 100));

    // Act
    const extra = await openSocket(capped.port);
    sockets.push(extra);
    const closedAfter = await closedWithin(extra, 800);
    const stillOpen = held.filter((s) => !s.destroyed).length;
    const defaults = await startHttpApi({ port: 0, token: 'the-token-of-the-limits-test', lambda: t.stack.lambda, routes: [] });
    const { headersTimeout, requestTimeout, maxConnections } = defaults.server;
    await defaults.close();
    await capped.close();

    // Assess
    expect(closedAfter).toBeLessThan(800);
    expect(stillOpen).toBe(3);
    // The defaults: headers within 10 s, a whole request within 60 s, at most 1,024 connections.
    expect({ headersTimeout, requestTimeout, maxConnections }).toEqual({ headersTimeout: 10_000, requestTimeout: 60_000, maxConnections: 1024 });
  });
});
