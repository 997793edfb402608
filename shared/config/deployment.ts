/** The deployment a config is validated and normalized for: its name, queues and job definition names. */
import type { Platform } from './schema.ts';

/** What normalization needs to know about the deployment it runs in. */
export interface NormalizeContext {
  /** `${service}-${stage}`; prefixes job definition and Batch job names. */
  deployment: string;
  /** Job queue for tasks that name none (and `defaults.queue` is absent). */
  defaultQueue: string;
  /** Batch name of the declared job definition `key` (normally `${deployment}-${key}`). */
  jobDefinitionName: (key: string) => string;
}

/** The deployment name parseConfig assumes when it is given none (used for length limits). */
export const DEFAULT_DEPLOYMENT = 'batchron-dev';

/**
 * The deployment's name and default job queue as serverless.yml declares them:
 * `custom.deployment`, else `<service>-<stage>`; `custom.jobQueue`, else the deployment's name.
 * The one rule for `osls package` (serverless/batchron-plugin.mjs), the local deploy and the CLI.
 */
export function deploymentOf(service: string, stage: string, custom: { deployment?: string; jobQueue?: string } = {}): { deployment: string; defaultQueue: string } {
  const deployment = custom.deployment ?? `${service}-${stage}`;
  return { deployment, defaultQueue: custom.jobQueue ?? deployment };
}

/** The usual NormalizeContext for a deployment: queue and job definitions prefixed by its name. */
export function deploymentContext(deployment: string, defaultQueue: string = deployment): NormalizeContext {
  return { deployment, defaultQueue, jobDefinitionName: (key) => `${deployment}-${key}` };
}

/** A NormalizeContext with the defaults filled in (DEFAULT_DEPLOYMENT when none is given). */
export function completeContext(context: Partial<NormalizeContext>): NormalizeContext {
  const deployment = context.deployment ?? DEFAULT_DEPLOYMENT;
  return {
    deployment,
    defaultQueue: context.defaultQueue ?? deployment,
    jobDefinitionName: context.jobDefinitionName ?? ((key) => `${deployment}-${key}`),
  };
}

/** Whether a platform runs on Fargate (where vCPU/memory come in fixed pairs). */
export function isFargate(platform: Platform): boolean {
  return platform === 'fargate' || platform === 'fargate-spot';
}

/**
 * The queue of a platform: the deployment's queue for Fargate, `${deployment}_<platform>`
 * for the others ("_" cannot occur in a deployment name, so `dev`'s queues never read as `dev-2`'s).
 */
export function platformQueueName(ctx: Pick<NormalizeContext, 'deployment' | 'defaultQueue'>, platform: Platform): string {
  return platform === 'fargate' ? ctx.defaultQueue : `${ctx.deployment}_${platform}`;
}
