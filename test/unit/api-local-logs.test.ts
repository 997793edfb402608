/**
 * The local CloudWatch Logs answers the SDK's own GetLogEvents / FilterLogEvents /
 * DescribeLogStreams over job log files, so the API reads logs the same way locally and on AWS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  InvalidParameterException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { startEndpoint, type Endpoint } from '#local/endpoint';
import { batchLogDirectory, LocalLogs } from '#local/logs';

const GROUP = '/aws/batch/job';
const STREAM = 'demo-hello/default/0123456789abcdef0123456789abcdef';

let dir: string;
let endpoint: Endpoint;
let client: CloudWatchLogsClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'batchron-logs-'));
  mkdirSync(join(dir, 'demo-hello', 'default'), { recursive: true });
  writeFileSync(join(dir, `${STREAM}.log`), Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
  endpoint = await startEndpoint({ port: 0, services: [new LocalLogs(batchLogDirectory(dir))] });
  client = new CloudWatchLogsClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('local CloudWatch Logs', () => {
  it('returns the newest events when not reading from the head, as CloudWatch does', async () => {
    const out = await client.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, limit: 5 }));
    expect(out.events?.map((e) => e.message)).toEqual(['line 21', 'line 22', 'line 23', 'line 24', 'line 25']);
    expect(typeof out.events?.[0]?.timestamp).toBe('number');
  });

  it('pages forward from the head and returns the same forward token at the end of the stream', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const out = await client.send(
        new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, startFromHead: true, limit: 10, nextToken: token }),
      );
      seen.push(...(out.events ?? []).map((e) => e.message ?? ''));
      if (out.nextForwardToken === token) break;
      token = out.nextForwardToken;
    }
    expect(seen).toHaveLength(25);
    expect(seen[0]).toBe('line 1');
    expect(seen[24]).toBe('line 25');
  });

  it('reads lines appended after the last page with the token it gave', async () => {
    const first = await client.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, startFromHead: true }));
    appendFileSync(join(dir, `${STREAM}.log`), 'line 26\n');
    const next = await client.send(
      new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, startFromHead: true, nextToken: first.nextForwardToken }),
    );
    expect(next.events?.map((e) => e.message)).toEqual(['line 26']);
  });

  it('answers ResourceNotFoundException for a stream that does not exist', async () => {
    await expect(
      client.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'nope/default/abc' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses a stream name that climbs out of the log folder', async () => {
    await expect(
      client.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: '../../etc/passwd' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers InvalidParameterException for a token it did not issue', async () => {
    await expect(
      client.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, nextToken: 'garbage' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('filters events by substring and lists streams', async () => {
    const filtered = await client.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: '"line 2"' }));
    expect(filtered.events?.map((e) => e.message)).toEqual(['line 2', 'line 20', 'line 21', 'line 22', 'line 23', 'line 24', 'line 25', 'line 26']);
    const streams = await client.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }));
    expect(streams.logStreams?.map((s) => s.logStreamName)).toEqual([STREAM]);
  });
});
