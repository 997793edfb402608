/**
 * The documented edge cases where the local matcher used to differ from EventBridge
 * (event-ruler's README and the EventBridge user guide's "Content filtering"): arrays at any
 * depth, anything-but lists under prefix/suffix, IPv6 cidr, exact integers beyond 2^53,
 * `exists: false` across an array's elements, numeric range limits; and the patterns
 * EventBridge refuses.
 */
import { describe, expect, it } from 'vitest';
import { compilePattern, EventPatternError, parseEventJson } from '#local/event-pattern';

/** Matches as the bus does for PutEvents: the event parsed from its JSON text, digit for digit. */
const matches = (pattern: string, eventJson: string): boolean => compilePattern(pattern)(parseEventJson(eventJson));

const employees = JSON.stringify({
  detail: {
    employees: [
      [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
      ],
      [{ firstName: 'Peter', lastName: 'Jones' }],
    ],
  },
});

describe('matching EventBridge does and the local bus now does too', () => {
  it.each<[string, string, string, boolean]>([
    ['an object pattern inside arrays of arrays', '{"detail":{"employees":{"firstName":["Anna"]}}}', employees, true],
    ['fields of one pattern object from different elements of nested arrays', '{"detail":{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}}', employees, false],
    ['fields of one pattern object within one element of nested arrays', '{"detail":{"employees":{"firstName":["Peter"],"lastName":["Jones"]}}}', employees, true],
    ['leaf values inside arrays of arrays', '{"detail":{"n":[3]}}', '{"detail":{"n":[[1,2],[[3]]]}}', true],
    ['anything-but a list of prefixes: another value', '{"detail":{"state":[{"anything-but":{"prefix":["init","stop"]}}]}}', '{"detail":{"state":"running"}}', true],
    ['anything-but a list of prefixes: one of them', '{"detail":{"state":[{"anything-but":{"prefix":["init","stop"]}}]}}', '{"detail":{"state":"stopped"}}', false],
    ['anything-but a list of suffixes: one of them', '{"detail":{"file":[{"anything-but":{"suffix":[".png",".jpg"]}}]}}', '{"detail":{"file":"a.jpg"}}', false],
    ['anything-but a list of suffixes: another value', '{"detail":{"file":[{"anything-but":{"suffix":[".png",".jpg"]}}]}}', '{"detail":{"file":"a.csv"}}', true],
    ['cidr IPv6: an address in the block', '{"detail":{"ip":[{"cidr":"2001:db8::/32"}]}}', '{"detail":{"ip":"2001:db8:0:1::5"}}', true],
    ['cidr IPv6: an address outside it', '{"detail":{"ip":[{"cidr":"2001:db8::/32"}]}}', '{"detail":{"ip":"2001:db9::1"}}', false],
    ['cidr IPv6: an IPv4 address', '{"detail":{"ip":[{"cidr":"::/0"}]}}', '{"detail":{"ip":"10.0.0.1"}}', false],
    ['cidr IPv4 still', '{"detail":{"ip":[{"cidr":"10.0.0.0/24"}]}}', '{"detail":{"ip":"10.0.0.255"}}', true],
    ['an integer beyond 2^53 against its neighbour', '{"detail":{"id":[9007199254740993]}}', '{"detail":{"id":9007199254740992}}', false],
    ['an integer beyond 2^53 against itself', '{"detail":{"id":[123456789012345678901]}}', '{"detail":{"id":123456789012345678901}}', true],
    ['anything-but an integer beyond 2^53, its neighbour', '{"detail":{"id":[{"anything-but":9007199254740993}]}}', '{"detail":{"id":9007199254740992}}', true],
    ['the same number written two ways', '{"detail":{"x":[301.8]}}', '{"detail":{"x":3.018e2}}', true],
    ['exists: false when another element of the array has the field', '{"detail":{"items":{"name":[{"exists":false}]}}}', '{"detail":{"items":[{"name":"a"},{"size":1}]}}', false],
    ['exists: false when no element has it', '{"detail":{"items":{"name":[{"exists":false}]}}}', '{"detail":{"items":[{"size":2},{"size":1}]}}', true],
    ['exists: false on a field that is not a leaf', '{"detail":{"c-count":[{"exists":false}]}}', '{"detail":{"c-count":{"c1":100}}}', true],
    ['numeric: a value beyond 5.0e9 matches no range', '{"detail":{"n":[{"numeric":[">",0]}]}}', '{"detail":{"n":6000000000}}', false],
    ['numeric: a value at 5.0e9', '{"detail":{"n":[{"numeric":[">=",5000000000]}]}}', '{"detail":{"n":5000000000}}', true],
    ['numeric: a closed single-point range', '{"detail":{"n":[{"numeric":[">=",5,"<=",5]}]}}', '{"detail":{"n":5}}', true],
  ])('%s', (_case, pattern, event, expected) => {
    expect(matches(pattern, event)).toBe(expected);
  });
});

describe('wildcard matching without a regular expression', () => {
  it.each<[string, string, boolean]>([
    ['Simple*Service', 'SimpleQueueService', true],
    ['Simple*Service', 'SimpleQueue', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a\\\\b', 'a\\b', true],
    ['*.png', 'photo.png', true],
    ['*', '', true],
  ])('%s against %s', (wildcard, value, expected) => {
    expect(compilePattern({ v: [{ wildcard }] })({ v: value })).toBe(expected);
  });

  it('answers a many-star pattern against a long value that almost matches (a backtracking regex takes exponential time here)', () => {
    const matcher = compilePattern({ v: [{ wildcard: '*a*a*a*a*a*a*a*a*a*a*a*a*b' }] });
    expect(matcher({ v: 'a'.repeat(20_000) })).toBe(false);
    expect(matcher({ v: `${'a'.repeat(20_000)}b` })).toBe(true);
  });
});

describe('patterns EventBridge refuses, refused with the reason', () => {
  it.each<[string, string, RegExp]>([
    ['numeric bounds in the wrong order', '{"n":[{"numeric":[">",5,"<",1]}]}', /range > 5 and < 1 contains no number/],
    ['an empty numeric range', '{"n":[{"numeric":[">",5,"<",5]}]}', /range > 5 and < 5 contains no number/],
    ['an upper bound before the lower one', '{"n":[{"numeric":["<",5,">",1]}]}', /lower bound \(> or >=\) then an upper bound/],
    ['a number beyond what numeric matching takes', '{"n":[{"numeric":[">",6e9]}]}', /outside the range EventBridge matches/],
    ['a numeric comparison it does not know', '{"n":[{"numeric":["!=",1]}]}', /unknown comparison/],
    ['an empty object as a field value', '{"detail":{}}', /an empty object matches nothing/],
    ['an empty object nested deeper', '{"detail":{"a":{}}}', /detail\.a: an empty object/],
    ['an operator name as a field inside $or', '{"$or":[{"prefix":["a"]},{"source":["b"]}]}', /"prefix" is an operator and cannot be a field name inside "\$or"/],
    ['numeric as a field inside $or', '{"detail":{"$or":[{"numeric":[1]},{"x":["b"]}]}}', /"numeric" is an operator/],
    ['an empty anything-but prefix', '{"s":[{"anything-but":{"prefix":""}}]}', /cannot be an empty string/],
    ['an empty anything-but suffix in a list', '{"s":[{"anything-but":{"suffix":["a",""]}}]}', /cannot be an empty string/],
    ['a cidr block with too many bits', '{"ip":[{"cidr":"2001:db8::/129"}]}', /"cidr" takes an IPv4 or IPv6 block/],
    ['a cidr that is not an address', '{"ip":[{"cidr":"10.0.0/24"}]}', /"cidr" takes an IPv4 or IPv6 block/],
  ])('%s', (_case, pattern, reason) => {
    expect(() => compilePattern(pattern)).toThrow(EventPatternError);
    expect(() => compilePattern(pattern)).toThrow(reason);
  });
});
