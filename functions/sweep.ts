/** Every few minutes: reconcile active runs with Batch, repair what was lost, alert on stuck runs. */
import { getEnv } from '#shared/env';
import { lambdaDeps, sweep } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';
import * as z from '#shared/zod';

const env = getEnv();

// Scheduler and EventBridge send a scheduled event or nothing in particular; the sweep takes no input.
const SweepInputSchema = z.unknown();

export const handler = engineHandler('sweep', SweepInputSchema, (_input, context) => sweep(lambdaDeps(env, context)));
