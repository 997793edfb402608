import { describe, expect, it } from 'vitest';
import { logicalDateOf, shiftDate } from '#shared/engine/logical-date';

describe('logical date', () => {
  it('is the calendar date on the schedule clock, not in UTC', () => {
    // 23:30 UTC on 14 January is already 00:30 on 15 January in Berlin.
    expect(logicalDateOf('2025-01-14T23:30:00Z', 'Europe/Berlin')).toBe('2025-01-15');
    expect(logicalDateOf('2025-01-14T23:30:00Z', 'UTC')).toBe('2025-01-14');
    // 03:00 UTC on 15 January is still the 14th in New York.
    expect(logicalDateOf('2025-01-15T03:00:00Z', 'America/New_York')).toBe('2025-01-14');
  });

  it('applies a declared day offset (a 02:00 run that processes yesterday)', () => {
    expect(logicalDateOf('2025-03-01T02:00:00Z', 'UTC', -1)).toBe('2025-02-28');
    expect(logicalDateOf(Date.parse('2024-03-01T02:00:00Z'), 'UTC', -1)).toBe('2024-02-29');
  });

  it('keeps the date across a DST night', () => {
    // Europe/Berlin springs forward at 02:00 on 30 March 2025; 01:59 and 03:00 local are one day.
    expect(logicalDateOf('2025-03-30T00:59:00Z', 'Europe/Berlin')).toBe('2025-03-30');
    expect(logicalDateOf('2025-03-30T01:00:00Z', 'Europe/Berlin')).toBe('2025-03-30');
    expect(logicalDateOf('2025-03-29T22:59:00Z', 'Europe/Berlin')).toBe('2025-03-29');
  });

  it('shifts dates by calendar days and refuses what is not a date', () => {
    expect(shiftDate('2025-01-01', -1)).toBe('2024-12-31');
    expect(shiftDate('2024-02-28', 1)).toBe('2024-02-29');
    expect(() => shiftDate('2025-1-1', 1)).toThrow(/not a date/);
    expect(() => logicalDateOf('yesterday', 'UTC')).toThrow(/not a time/);
  });
});
