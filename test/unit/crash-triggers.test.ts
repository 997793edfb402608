/**
 * Crash points of the event-trigger path (functions/trigger.ts, shared/engine/trigger.ts):
 * a delivery that starts its key's run, and with a batch window the first arrival (which
 * schedules the close), the arrival that fills a part (which closes it and starts its run),
 * a duplicate arrival, the window's close, and the sweep that closes a window whose close
schedule was lost. Each faulted after every step; Lambda's
 * retries, the close schedule and the sweeper then leave every event key in exactly one run,
 * nothing doubled. In process: test/helpers/crash-world.ts; docs/crash-points.md.
 */
import { defineTriggerSuite } from '#test/helpers/crash-points';

defineTriggerSuite('crash points of event triggers and batch windows', ['trigger-event', 'window-first', 'window-fill', 'window-duplicate', 'window-close', 'window-sweep']);
