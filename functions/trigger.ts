/**
 * An event trigger's EventBridge rule delivered an event → start the run for its key, or
 * add it to the batch window; a window's one-time close schedule fired → close the window.
 * Both idempotent (shared/engine/trigger.ts).
 */
import { TriggerFunctionInputSchema } from '#shared/config/trigger';
import { scheduler } from '#shared/clients/scheduler';
import { readEnv } from '#shared/env';
import { builtOnFirstCall, lambdaRuntime, type Runtime } from '#shared/runtime';
import { closeWindow, handleTriggerEvent, lambdaDeps, type TriggerDeps } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';
import { sdkWindowScheduler } from '#shared/engine/ports';

/** The handler over the deps `depsFor` builds per invocation (a test passes wrapped ones). */
export function createHandler(depsFor: (context: Parameters<typeof lambdaDeps>[1]) => TriggerDeps) {
  return engineHandler('trigger', TriggerFunctionInputSchema, async (input, context) => {
    const deps = depsFor(context);
    if ('closeWindow' in input) return { closed: await closeWindow(input.closeWindow, deps) };
    return handleTriggerEvent(input, deps);
  });
}

/** The production handler over `runtime`'s environment (read once, here) and clock. */
export function handlerFor(runtime: Runtime) {
  const env = readEnv(runtime.env);
  const windows = env.triggerTargetArn
    ? sdkWindowScheduler(scheduler, { groupName: env.scheduleGroup, targetArn: env.triggerTargetArn, roleArn: env.schedulerRoleArn })
    : undefined;
  return createHandler((context) => ({ ...lambdaDeps(env, context, { now: runtime.now, envOf: (name) => runtime.env[name] }), ...(windows ? { windows } : {}) }));
}

export const handler = builtOnFirstCall(() => handlerFor(lambdaRuntime));
