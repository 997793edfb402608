/** The engine's DynamoDB access: run and schedule-state items, by key or by query only. */
export * from './runs.ts';
export * from './schedules.ts';
export * from './pacer.ts';
export * from './schema.ts';
export { encodeCursor, decodeCursor } from './cursor.ts';
export { dynamoStore } from './dynamo.ts';
export { memoryStore } from './memory.ts';
export { runKey, scheduleStateKey, activeShard, ACTIVE_SHARDS } from './keys.ts';
