/**
 * What a Fargate task's execution role must be allowed before the job's container starts
 * (the ECS agent acts with it): registry auth and image pull for a private ECR image, the
 * job's secrets, and the awslogs stream. A refusal ends the attempt with the status reason
 * ECS gives for it, and no process starts.
 *
 * ECS's reasons (AWS re:Post "ResourceInitializationError when pulling secrets or Amazon ECR
 * authentication", and the awslogs driver's "failed to validate logger args" message):
 *   ResourceInitializationError: unable to pull secrets or registry auth: execution resource
 *     retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): ...
 *   ResourceInitializationError: unable to pull secrets or registry auth: execution resource
 *     retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): ...
 *   ResourceInitializationError: failed to validate logger args: create stream has been retried
 *     1 times: failed to create Cloudwatch log stream: AccessDeniedException: ... : exit status 1
 */
import type { AuthRequest } from './policy.ts';
import { logStreamArn, parameterArn } from './authorization.ts';

export interface TaskStart {
  region: string;
  account: string;
  image?: string;
  /** `secrets` of the container: `valueFrom` is an SSM parameter name/ARN or a Secrets Manager ARN (with an optional `:key::` suffix). */
  secrets?: { name?: string; valueFrom?: string }[];
  logConfiguration?: { logDriver?: string; options?: Record<string, string> };
  logStreamName: string;
}

/** One step of starting the task: what it must be allowed, and how ECS words a refusal. */
export interface TaskStep {
  requests: AuthRequest[];
  reason: (denial: string) => string;
}

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/;

/** The execution-role steps of a task start, in the order ECS takes them. */
export function taskStartSteps(t: TaskStart): TaskStep[] {
  const steps: TaskStep[] = [];
  const ecr = t.image ? ECR_IMAGE.exec(t.image) : null;
  if (ecr) {
    const [, account, region, repository] = ecr;
    steps.push({
      requests: [{ action: 'ecr:GetAuthorizationToken', resource: '*' }],
      reason: (d) =>
        `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: ${d}`,
    });
    const repo = `arn:aws:ecr:${region}:${account}:repository/${repository}`;
    steps.push({
      requests: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'].map((action) => ({ action, resource: repo })),
      reason: (d) => `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${t.image}: AccessDeniedException: ${d}`,
    });
  }
  for (const secret of t.secrets ?? []) {
    const from = String(secret.valueFrom ?? '');
    if (from.startsWith('arn:aws:secretsmanager:')) {
      // arn:aws:secretsmanager:region:acct:secret:name-AbCdEf[:json-key:version-stage:version-id]
      const arn = from.split(':').slice(0, 7).join(':');
      steps.push({
        requests: [{ action: 'secretsmanager:GetSecretValue', resource: arn }],
        reason: (d) =>
          `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${arn} from secrets manager: AccessDeniedException: ${d}`,
      });
    } else if (from) {
      steps.push({
        requests: [{ action: 'ssm:GetParameters', resource: parameterArn(t, from) }],
        reason: (d) =>
          `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: ${d}`,
      });
    }
  }
  if (t.logConfiguration?.logDriver === 'awslogs') {
    const group = t.logConfiguration.options?.['awslogs-group'] ?? '/aws/batch/job';
    const stream = logStreamArn(t, group, t.logStreamName);
    steps.push({
      requests: ['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({ action, resource: stream })),
      reason: (d) =>
        `ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: ${d} : exit status 1`,
    });
  }
  return steps;
}
