/**
 * Event triggers: an EventBridge rule (or the local bus) delivers an event for one of a
 * schedule's `on:` triggers, and the engine starts a run through the same startRun as a
 * Scheduler fire.
 *
 * Without a batch window, the run id derives from the schedule, the trigger and the event's
 * idempotency key (`runIdFor(..., 'event')`), and startRun's conditional create makes any
 * number of deliveries of that key one run.
 *
 * With a batch window, events are collected into tumbling windows aligned to the epoch
 * (window = floor(arrival / seconds)): each arrival is counted on the window's head item,
 * and arrival n is added to part floor((n-1)/maxEvents) together with a seen-marker for its
 * key in one transaction (a key already seen is dropped, whatever window it came in). A part
 * that takes its last slot is closed and started at once; the rest close when the window
 * ends, by a one-time Scheduler schedule created by the window's first arrival, or by the
 * sweeper (`repairWindows`) when that close never came. One run per part, its run id from
 * the trigger, window and part, its parameters the JSON arrays of the events' values in
 * arrival order. Item layout: shared/store/windows.ts.
 */
import type { ScheduleDefinition } from '../config/definition.ts';
import type { TriggerInput, TriggerSettings } from '../config/trigger.ts';
import { RetryableError, ValidationError } from '../errors.ts';
import { oneTimeAt } from '../time.ts';
import { SEEN_TTL_SECONDS } from '../store/windows.ts';
import type { EngineDeps } from './deps.ts';
import { windowCloseScheduleName } from './naming.ts';
import type { WindowRef, WindowSchedulerPort, WindowStore } from './ports.ts';
import { startRun, type StartResult } from './start.ts';

/** The engine's deps plus what closes windows (absent: only maxEvents and the sweeper close them). */
export interface TriggerDeps extends EngineDeps {
  windows?: WindowSchedulerPort;
}

/** What one delivery did. */
export type TriggerResult =
  | { outcome: 'started'; run: StartResult }
  | { outcome: 'collected'; window: number; part: number; closed?: StartResult }
  | { outcome: 'duplicate'; run?: StartResult; window?: number; closed?: StartResult };

function windowsOf(deps: EngineDeps): WindowStore {
  if (!deps.windowStore) throw new Error('event triggers with a batch window need deps.windowStore');
  return deps.windowStore;
}

/** Grace after a window's end before the sweeper closes it itself. */
export const WINDOW_REPAIR_GRACE_MS = 60_000;

/**
 * The value at a simple JSONPath (`$.a.b`, `$.a[0]`) of an event, as a string (numbers and
 * booleans as their JSON text, objects as JSON); undefined when absent or null.
 */
export function eventValue(event: unknown, path: string): string | undefined {
  const parts = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((m) => m[1] ?? Number(m[2]));
  let current: unknown = event;
  for (const part of parts) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  if (current === undefined || current === null) return undefined;
  return typeof current === 'string' ? current : JSON.stringify(current);
}

/** The run parameters an event gives, by the trigger's mapping. */
export function eventParameters(event: unknown, settings: TriggerSettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(settings.parameters)) {
    const value = eventValue(event, path);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Handles one delivery of an event to one trigger. Idempotent per idempotency key. */
export async function handleTriggerEvent(input: TriggerInput, deps: TriggerDeps): Promise<TriggerResult> {
  const { settings, event } = input;
  const key = eventValue(event, settings.idempotencyKey);
  if (key === undefined) {
    throw new ValidationError(`trigger ${input.schedule}.on[${input.trigger}]: the event has no value at ${settings.idempotencyKey} (its idempotency key)`, [
      { path: 'event', message: `no value at ${settings.idempotencyKey}` },
    ]);
  }
  const parameters = eventParameters(event, settings);
  if (!settings.batchWindow) {
    const run = await startRun(
      { schedule: input.schedule, scheduledTime: event.time, definition: input.definition, trigger: 'event', parameters },
      deps,
      { idempotencyKey: `on${input.trigger}\n${key}`, keyKind: 'event' },
    );
    return run.created ? { outcome: 'started', run } : { outcome: 'duplicate', run };
  }
  return collect(input, key, JSON.stringify(parameters), deps);
}

async function collect(input: TriggerInput, key: string, value: string, deps: TriggerDeps): Promise<TriggerResult> {
  const { seconds, maxEvents } = input.settings.batchWindow!;
  const lengthMs = seconds * 1000;
  let window = Math.floor(deps.now() / lengthMs);
  for (let i = 0; i < 20; i++) {
    window = Math.max(window, Math.floor(deps.now() / lengthMs));
    const w: WindowRef = { schedule: input.schedule, trigger: input.trigger, window };
    const closesAt = (window + 1) * lengthMs;
    const expiresAt = Math.floor(closesAt / 1000) + SEEN_TTL_SECONDS + deps.env.retentionDays * 86_400;
    const n = await windowsOf(deps).countArrival(w, { closesAt, definition: input.definition, settings: input.settings, expiresAt });
    if (n === 'closed') {
      window += 1;
      continue;
    }
    if (n === 1) await scheduleClose(w, closesAt, deps);
    const part = Math.floor((n - 1) / maxEvents);
    const added = await windowsOf(deps).addToPart(w, part, { key, value, expiresAt: Math.floor(deps.now() / 1000) + SEEN_TTL_SECONDS });
    // The arrival that takes a part's last slot closes it, even as a duplicate: no one else will.
    const closed = n % maxEvents === 0 ? await startPart(w, part, input.definition, input.settings, deps) : undefined;
    if (added === 'added') return { outcome: 'collected', window, part, ...(closed ? { closed } : {}) };
    if (added === 'duplicate') return { outcome: 'duplicate', window, ...(closed ? { closed } : {}) };
    // closed meanwhile, or a transaction conflict: count the arrival again.
  }
  throw new RetryableError(`trigger ${input.schedule}.on[${input.trigger}]: the batch window kept changing; retry`);
}

async function scheduleClose(w: WindowRef, at: number, deps: TriggerDeps): Promise<void> {
  if (!deps.windows) return;
  await deps.windows.scheduleClose({
    name: windowCloseScheduleName(deps.env.deployment, w.schedule, w.trigger, w.window),
    // An arrival processed after its window's end must not leave the window to the sweeper.
    at: oneTimeAt(at, deps.now()),
    input: { closeWindow: w },
    description: `Batchron: close batch window ${w.window} of ${w.schedule} on[${w.trigger}]`,
  });
}

/** Closes one part and starts its run (both idempotent). */
async function startPart(w: WindowRef, part: number, definition: ScheduleDefinition, settings: TriggerSettings, deps: EngineDeps): Promise<StartResult | undefined> {
  const values = await windowsOf(deps).closePart(w, part);
  if (!values || values.length === 0) return undefined;
  const lists: Record<string, string[]> = {};
  for (const value of values) {
    for (const [name, v] of Object.entries(JSON.parse(value) as Record<string, string>)) (lists[name] ??= []).push(v);
  }
  const parameters = Object.fromEntries(Object.keys(settings.parameters).map((name) => [name, JSON.stringify(lists[name] ?? [])]));
  const lengthMs = (settings.batchWindow?.seconds ?? 1) * 1000;
  return startRun(
    { schedule: w.schedule, scheduledTime: new Date(w.window * lengthMs).toISOString(), definition, trigger: 'event', parameters },
    deps,
    { idempotencyKey: `on${w.trigger}\nwindow ${w.window}\npart ${part}`, keyKind: 'event' },
  );
}

/**
 * Closes a window at its end: the head first (later arrivals go to the next window), then
 * every part, each started as a run; then takes it out of the open-windows index. Safe to
 * repeat after a crash at any step.
 */
export async function closeWindow(w: WindowRef, deps: EngineDeps): Promise<StartResult[]> {
  const head = await windowsOf(deps).closeHead(w);
  if (!head) return [];
  const maxEvents = head.settings.batchWindow?.maxEvents ?? 1;
  const runs: StartResult[] = [];
  for (let part = 0; part * maxEvents < head.n; part++) {
    const run = await startPart(w, part, head.definition, head.settings, deps);
    if (run) runs.push(run);
  }
  await windowsOf(deps).retireWindow(w);
  return runs;
}

/** The sweeper's repair: closes windows whose end passed over a grace ago and that are still open. */
export async function repairWindows(deps: EngineDeps): Promise<WindowRef[]> {
  if (!deps.windowStore) return [];
  const overdue = await deps.windowStore.listOverdueWindows(deps.now() - WINDOW_REPAIR_GRACE_MS);
  for (const w of overdue) {
    deps.log.warn('batch window not closed by its schedule; closing it', { ...w });
    await closeWindow(w, deps);
  }
  return overdue;
}
