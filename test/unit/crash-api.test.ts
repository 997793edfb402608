/**
 * Crash points of the API's paths into the engine: POST /schedules/{name}/runs with an
 * Idempotency-Key (startRun) and POST /runs/{id}/cancel (cancelRunById), served by the real
 * functions/api.ts in process (test/helpers/crash-world.ts). After a faulted request the
 * client repeats it, as a client of an idempotent API does: still one run, one job per
 * attempt, and the answer says what happened. See docs/crash-points.md.
 */
import { defineApiSuite } from '#test/helpers/crash-points';

defineApiSuite('crash points of the API starting and cancelling runs', ['api-start', 'api-cancel']);
