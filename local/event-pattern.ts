/**
 * The local bus's pattern matcher lives in shared/config/event-pattern.ts, where config
 * validation (event triggers) checks patterns with the same code; re-exported here for the bus.
 */
export * from '../shared/config/event-pattern.ts';
