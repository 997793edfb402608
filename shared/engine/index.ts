/** The engine's public surface: what functions/ and the API build on. */
export { startRun, type StartResult, type StartOptions } from './start.ts';
export { applyJobFacts, type ApplyResult } from './events.ts';
export { resumeRetry } from './retry.ts';
export { sweep, type SweepReport } from './sweep.ts';
export { closeWindow, handleTriggerEvent, repairWindows, type TriggerDeps, type TriggerResult } from './trigger.ts';
export { cancelRunById, drive } from './drive.ts';
export { rerunRunById, type RerunResult } from './rerun.ts';
export { defaultDeps, lambdaDeps, contextOf, type DepsFor, type EngineDeps } from './deps.ts';
export { runIdFor, jobName, retryScheduleName } from './naming.ts';
export { sdkBatch, sdkRetryScheduler, type BatchPort, type RetrySchedulerPort, type JobFacts } from './ports.ts';
export { TAGS, jobRef } from './submit.ts';
