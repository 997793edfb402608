/**
 * An event trigger's EventBridge rule delivered an event → start the run for its key, or
 * add it to the batch window; a window's one-time close schedule fired → close the window.
 * Both idempotent (shared/engine/trigger.ts).
 */
import { TriggerFunctionInputSchema } from '#shared/config/trigger';
import { scheduler } from '#shared/clients/scheduler';
import { getEnv } from '#shared/env';
import { closeWindow, handleTriggerEvent, lambdaDeps } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';
import { sdkWindowScheduler } from '#shared/engine/ports';

const env = getEnv();
const windows = env.triggerTargetArn
  ? sdkWindowScheduler(scheduler, { groupName: env.scheduleGroup, targetArn: env.triggerTargetArn, roleArn: env.schedulerRoleArn })
  : undefined;

export const handler = engineHandler('trigger', TriggerFunctionInputSchema, async (input, context) => {
  const deps = { ...lambdaDeps(env, context), ...(windows ? { windows } : {}) };
  if ('closeWindow' in input) return { closed: await closeWindow(input.closeWindow, deps) };
  return handleTriggerEvent(input, deps);
});
