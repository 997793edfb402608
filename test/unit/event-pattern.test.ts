/**
 * EventBridge pattern matching, table-driven from the examples in the EventBridge user
 * guide ("Event pattern syntax", "Comparison operators for use in event patterns").
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compilePattern, EventPatternError, matchesPattern } from '#local/event-pattern';

const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'd-count': 7,
    'x-limit': 301.8,
    'source-ip': '10.0.0.123',
    FileName: 'image.png',
    FilePath: '/usr/lib/libz.so',
    service: 'EventBridge',
    eventVersion: '',
    responseElements: null,
    tags: ['blue', 'prod'],
    flag: true,
  },
};

type Row = [name: string, pattern: unknown, matches: boolean];

const detail = (d: Record<string, unknown>) => ({ detail: d });

const table: Row[] = [
  // Exact values, AND across fields, OR within an array.
  ['exact source and detail-type', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] }, true],
  ['nested exact value', { source: ['aws.ec2'], detail: { state: ['terminated'] } }, true],
  ['array of values is an OR', { source: ['aws.ec2', 'aws.fargate'] }, true],
  ['all fields must match (AND)', { source: ['aws.ec2'], detail: { state: ['running'] } }, false],
  ['field missing from the event', { detail: { nope: ['x'] } }, false],
  ['values are case sensitive', { source: ['AWS.EC2'] }, false],
  ['a string never equals a number', detail({ 'c-count': ['5'] }), false],
  ['numbers match exactly', detail({ 'c-count': [5] }), true],
  ['booleans match exactly', detail({ flag: [true] }), true],
  ['null matches a null value', detail({ responseElements: [null] }), true],
  ['null does not match a missing field', detail({ missing: [null] }), false],
  ['empty string matches an empty value', detail({ eventVersion: [''] }), true],
  ['event array matches when any element does', { resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] }, true],
  ['event array of tags', detail({ tags: ['prod'] }), true],
  ['event array with no matching element', detail({ tags: ['dev'] }), false],
  ['a leaf matcher never matches an object', { detail: ['terminated'] }, false],

  // prefix / suffix
  ['prefix on time', { time: [{ prefix: '2017-12-22' }] }, true],
  ['prefix that does not match', { time: [{ prefix: '2017-10-02' }] }, false],
  ['prefix ignoring case', detail({ service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }), true],
  ['prefix is case sensitive by default', detail({ service: [{ prefix: 'eventb' }] }), false],
  ['suffix', detail({ FileName: [{ suffix: '.png' }] }), true],
  ['suffix ignoring case', detail({ FileName: [{ suffix: { 'equals-ignore-case': '.PNG' } }] }), true],
  ['suffix that does not match', detail({ FileName: [{ suffix: '.jpg' }] }), false],
  ['prefix never matches a number', detail({ 'c-count': [{ prefix: '5' }] }), false],

  // anything-but
  ['anything-but a string', detail({ state: [{ 'anything-but': 'initializing' }] }), true],
  ['anything-but the same string', detail({ state: [{ 'anything-but': 'terminated' }] }), false],
  ['anything-but a number', detail({ 'x-limit': [{ 'anything-but': 123 }] }), true],
  ['anything-but a list of strings', detail({ state: [{ 'anything-but': ['stopped', 'overloaded'] }] }), true],
  ['anything-but a list containing the value', detail({ state: [{ 'anything-but': ['stopped', 'terminated'] }] }), false],
  ['anything-but a list of numbers', detail({ 'c-count': [{ 'anything-but': [100, 200, 300] }] }), true],
  ['anything-but a list of numbers containing it', detail({ 'c-count': [{ 'anything-but': [5, 6] }] }), false],
  ['anything-but prefix', detail({ state: [{ 'anything-but': { prefix: 'init' } }] }), true],
  ['anything-but prefix that matches', detail({ state: [{ 'anything-but': { prefix: 'term' } }] }), false],
  ['anything-but suffix', detail({ FileName: [{ 'anything-but': { suffix: '.txt' } }] }), true],
  ['anything-but suffix that matches', detail({ FileName: [{ 'anything-but': { suffix: '.png' } }] }), false],
  ['anything-but ignoring case', detail({ state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] }), true],
  ['anything-but ignoring case that matches', detail({ state: [{ 'anything-but': { 'equals-ignore-case': 'TERMINATED' } }] }), false],
  ['anything-but wildcard', detail({ FilePath: [{ 'anything-but': { wildcard: '*/bin/*' } }] }), true],
  ['anything-but wildcard that matches', detail({ FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }), false],
  ['anything-but a list of wildcards', detail({ FilePath: [{ 'anything-but': { wildcard: ['*/bin/*', '*/lib/*'] } }] }), false],
  ['anything-but needs the field to exist', detail({ missing: [{ 'anything-but': 'x' }] }), false],
  ['anything-but on an array: another element differs', detail({ tags: [{ 'anything-but': 'blue' }] }), true],

  // numeric
  ['numeric ranges from the docs', detail({ 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] }), true],
  ['numeric lower bound excluded', detail({ 'c-count': [{ numeric: ['>', 5] }] }), false],
  ['numeric upper bound included', detail({ 'c-count': [{ numeric: ['>=', 5, '<', 6] }] }), true],
  ['numeric never matches a string', detail({ state: [{ numeric: ['>', 0] }] }), false],

  // exists
  ['exists true on a present leaf', detail({ state: [{ exists: true }] }), true],
  ['exists true on a missing leaf', detail({ nope: [{ exists: true }] }), false],
  ['exists false on a missing leaf', detail({ nope: [{ exists: false }] }), true],
  ['exists false on a present leaf', detail({ state: [{ exists: false }] }), false],
  ['exists does not work on intermediate nodes', { detail: [{ exists: true }] }, false],
  ['exists false when a whole branch is missing', { nothing: { here: [{ exists: false }] } }, true],

  // equals-ignore-case, wildcard, cidr
  ['equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, true],
  ['equals-ignore-case that differs', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state change' }] }, false],
  ['wildcard across the ARN', { resources: [{ wildcard: 'arn:aws:ec2:us-west-1:*:instance/*' }] }, true],
  ['wildcard that does not match', { resources: [{ wildcard: 'arn:aws:ec2:us-east-1:*' }] }, false],
  ['wildcard with no star is an exact match', detail({ state: [{ wildcard: 'terminated' }] }), true],
  ['cidr block containing the address', detail({ 'source-ip': [{ cidr: '10.0.0.0/24' }] }), true],
  ['cidr block not containing it', detail({ 'source-ip': [{ cidr: '10.0.1.0/24' }] }), false],

  // $or
  ['$or across numeric fields', detail({ $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] }), true],
  ['$or where no branch matches', detail({ $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { 'd-count': [{ numeric: ['>', 10] }] }] }), false],
  ['$or combined with a sibling field (AND)', { source: ['aws.ec2'], $or: [{ region: ['us-east-1'] }, { account: ['111122223333'] }] }, true],
  ['$or combined with a failing sibling', { source: ['aws.s3'], $or: [{ region: ['us-west-1'] }, { account: ['111122223333'] }] }, false],
  ['$or with nested objects', { $or: [{ detail: { state: ['running'] } }, { detail: { FileName: [{ suffix: '.png' }] } }] }, true],
  ['several matchers in one array are an OR', detail({ state: [{ prefix: 'run' }, 'terminated', { numeric: ['>', 1] }] }), true],
];

describe('event pattern matching (EventBridge user guide examples)', () => {
  it.each(table)('%s', (_name, pattern, expected) => {
    expect(matchesPattern(pattern, ec2Event)).toBe(expected);
  });

  it('matches fields of one pattern object within the same array element', () => {
    // Prepare
    const event = { detail: { items: [{ kind: 'a', size: 1 }, { kind: 'b', size: 2 }] } };
    // Act / Assess
    expect(matchesPattern({ detail: { items: { kind: ['b'], size: [2] } } }, event)).toBe(true);
    expect(matchesPattern({ detail: { items: { kind: ['a'], size: [2] } } }, event)).toBe(false);
  });

  it('accepts the pattern as JSON text, as PutRule sends it', () => {
    expect(matchesPattern(JSON.stringify({ source: ['aws.ec2'] }), ec2Event)).toBe(true);
  });

  it('matches a Batch Job State Change rule the way Batchron declares it', () => {
    const event = {
      source: 'aws.batch',
      'detail-type': 'Batch Job State Change',
      detail: { status: 'FAILED', jobName: 'batchron-dev-nightly-1', container: { exitCode: 2 } },
    };
    const pattern = {
      source: ['aws.batch'],
      'detail-type': ['Batch Job State Change'],
      detail: { status: ['SUCCEEDED', 'FAILED', 'RUNNING'], jobName: [{ prefix: 'batchron-dev-' }] },
    };
    expect(matchesPattern(pattern, event)).toBe(true);
    expect(matchesPattern({ ...pattern, detail: { ...pattern.detail, status: ['RUNNABLE'] } }, event)).toBe(false);
  });

  it.each<[string, unknown]>([
    ['an empty pattern', {}],
    ['a scalar leaf', { source: 'aws.ec2' }],
    ['an empty matcher array', { source: [] }],
    ['an unknown operator', { source: [{ contains: 'x' }] }],
    ['two operators in one matcher', { source: [{ prefix: 'a', suffix: 'b' }] }],
    ['a bad numeric operator', { n: [{ numeric: ['!=', 1] }] }],
    ['a numeric without a number', { n: [{ numeric: ['>', '1'] }] }],
    ['exists with a string', { n: [{ exists: 'yes' }] }],
    ['anything-but with mixed types', { n: [{ 'anything-but': ['a', 1] }] }],
    ['$or with one branch', { $or: [{ a: ['x'] }] }],
    ['a bad cidr', { ip: [{ cidr: '10.0.0.0/40' }] }],
    ['invalid JSON text', '{"source": ['],
  ])('rejects %s', (_name, pattern) => {
    expect(() => compilePattern(pattern)).toThrow(EventPatternError);
  });
});

describe('event pattern properties', () => {
  const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null));
  const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '$or' && k !== '__proto__');

  it('a pattern built from an event\'s own leaf values always matches that event', () => {
    fc.assert(
      fc.property(fc.dictionary(key, scalar, { minKeys: 1, maxKeys: 6 }), fc.nat(), (event, pick) => {
        const keys = Object.keys(event);
        const chosen = keys.filter((_, i) => (pick >> i) & 1);
        const fields = chosen.length > 0 ? chosen : [keys[0]!];
        const pattern = { detail: Object.fromEntries(fields.map((k) => [k, [event[k]]])) };
        return matchesPattern(pattern, { detail: event });
      }),
    );
  });

  it('anything-but a value matches exactly when the exact value does not, for a present scalar', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), (value, other) => {
        const event = { field: value };
        const exact = matchesPattern({ field: [other] }, event);
        const but = matchesPattern({ field: [{ 'anything-but': other }] }, event);
        return exact !== but;
      }),
    );
  });

  it('every prefix and suffix of a string matches it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.nat(12), (s, cut) => {
        const event = { s };
        return (
          matchesPattern({ s: [{ prefix: s.slice(0, cut) }] }, event) &&
          matchesPattern({ s: [{ suffix: s.slice(cut) }] }, event)
        );
      }),
    );
  });
});
