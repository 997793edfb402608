/**
 * EventBridge Scheduler → start the run for one scheduled time (also the ad hoc/backfill
 * path when invoked with `trigger` set). Duplicate deliveries continue the same run.
 */
import { FireInputSchema } from '#shared/config/definition';
import { getEnv } from '#shared/env';
import { lambdaDeps, startRun } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';

const env = getEnv();

export const handler = engineHandler('fire', FireInputSchema, (input, context) => startRun(input, lambdaDeps(env, context)));
