/**
 * The deadline store contract (`DeadlineStore`, shared/engine/ports.ts), run against DynamoDB
 * Local (shared/store/deadlines.ts) and the in-memory store the unit tests use
 * (shared/store/memory-deadlines.ts): a record is created once, a save lands only over the
 * version it read (so two sweepers cannot both claim a message), listings are by time span
 * and the latest is the newest at or before a time.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { DeadlineStore } from '#shared/engine/ports';
import type { DeadlineRecord } from '#shared/store/deadline-item';
import { dynamoDeadlineStore } from '#shared/store/deadlines';
import { memoryDeadlineStore } from '#shared/store/memory-deadlines';
import { createEngineTable } from '#test/helpers/engine';

let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
const table = `deadline-contract-${process.pid}`;

beforeAll(async () => {
  client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await createEngineTable(client, table);
});

afterAll(() => client?.destroy());

const stores: [string, () => DeadlineStore][] = [
  ['DynamoDB', () => dynamoDeadlineStore({ doc, table })],
  ['in-memory', () => memoryDeadlineStore()],
];

const expiresAt = Math.floor(Date.parse('2025-07-01T00:00:00Z') / 1000);
const missed = (schedule: string, day: string): DeadlineRecord => ({
  schedule,
  deadlineAt: `2025-06-${day}T04:00:00.000Z`,
  logicalDate: `2025-06-${day}`,
  status: 'MISSED',
  missedAt: `2025-06-${day}T04:01:00.000Z`,
  alert: { status: 'PENDING' },
  version: 0,
});

describe.each(stores)('the %s deadline store', (kind, make) => {
  const n = (name: string) => `${name}-${kind === 'DynamoDB' ? 'd' : 'm'}`;
  let store: DeadlineStore;
  beforeAll(() => {
    store = make();
  });

  it('creates a record once: a second decision for the same deadline is refused', async () => {
    const s = n('once');
    expect(await store.createDeadline(missed(s, '10'), expiresAt)).toBe(true);
    expect(await store.createDeadline({ ...missed(s, '10'), status: 'MET', alert: undefined }, expiresAt)).toBe(false);
    expect(await store.listDeadlines(s, '2025-06-10T00:00:00.000Z', '2025-06-11T00:00:00.000Z')).toEqual([missed(s, '10')]);
  });

  it('lets one of two claims of the same version land, and returns the record as saved', async () => {
    const s = n('claim');
    await store.createDeadline(missed(s, '10'), expiresAt);
    const [read] = await store.listDeadlines(s, '2025-06-10T00:00:00.000Z', '2025-06-11T00:00:00.000Z');
    const claim = (until: number) => store.saveDeadline({ ...read!, alert: { status: 'SENDING', until } }, expiresAt);
    const [a, b] = await Promise.all([claim(1), claim(2)]);
    expect([a, b].filter((x) => x !== undefined)).toHaveLength(1);
    const won = (a ?? b)!;
    expect(won.version).toBe(1);
    expect(await store.saveDeadline({ ...won, alert: { status: 'SENT' } }, expiresAt)).toMatchObject({ version: 2, alert: { status: 'SENT' } });
    expect(await store.saveDeadline({ ...won, alert: { status: 'PENDING' } }, expiresAt)).toBeUndefined();
  });

  it('lists a schedule’s records in a span, earliest first, and finds the latest at or before a time', async () => {
    const s = n('span');
    for (const day of ['12', '10', '11']) await store.createDeadline(missed(s, day), expiresAt);
    await store.createDeadline(missed(n('other'), '11'), expiresAt);
    const listed = await store.listDeadlines(s, '2025-06-10T12:00:00.000Z', '2025-06-12T04:00:00.000Z');
    expect(listed.map((r) => r.logicalDate)).toEqual(['2025-06-11', '2025-06-12']);
    expect((await store.latestDeadline(s, '2025-06-11T23:00:00.000Z'))?.logicalDate).toBe('2025-06-11');
    expect(await store.latestDeadline(s, '2025-06-01T00:00:00.000Z')).toBeUndefined();
  });
});
