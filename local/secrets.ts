/**
 * How the local Batch injects a job definition's `secrets` (`{ name, valueFrom }`), as the
 * ECS agent does with the job's execution role before the container starts: `valueFrom` is
 * an SSM parameter (ARN or name) or a Secrets Manager secret (ARN, possibly partial, with
 * an optional `:json-key::`). A secret that cannot be read fails the attempt with the
 * status reason ECS gives (`ResourceInitializationError: unable to pull secrets ...`),
 * which Batchron's default retry policy treats as a host failure.
 *
 * Values go only into the job process's environment: never into the job's description,
 * its state-change events, the stack's state files or any log line.
 */
import { AwsError } from './contracts.ts';
import type { LocalSecretsManager } from './secretsmanager.ts';
import type { LocalSsm } from './ssm.ts';

/** One entry of a container's `secrets`. */
export interface SecretRef {
  name: string;
  valueFrom: string;
}

/** Who reads the secrets (the job's execution role), for an authorizer to check. */
export interface SecretReader {
  jobId: string;
  executionRoleArn?: string;
}

/** Resolves a job's secrets to environment variables; throws SecretResolutionError. */
export type SecretResolver = (secrets: SecretRef[], reader: SecretReader) => Record<string, string>;

/** A secret that could not be read; `message` is the attempt's status reason. */
export class SecretResolutionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretResolutionError';
  }
}

const PREFIX = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed:';

/** Reads from the local SSM and Secrets Manager (the stack wires this into its Batch). */
export function localSecretResolver(ssm: LocalSsm, secretsManager: LocalSecretsManager): SecretResolver {
  return (secrets) => {
    const env: Record<string, string> = {};
    for (const { name, valueFrom } of secrets) env[name] = resolveOne(valueFrom, ssm, secretsManager);
    return env;
  };
}

function resolveOne(valueFrom: string, ssm: LocalSsm, secretsManager: LocalSecretsManager): string {
  const sm = /^arn:aws[a-z-]*:secretsmanager:[^:]*:\d{12}:secret:([^:]+)(?::([^:]*):([^:]*):([^:]*))?$/.exec(valueFrom);
  if (sm) {
    try {
      return secretsManager.value(sm[1]!, sm[2]);
    } catch (error) {
      throw new SecretResolutionError(
        `${PREFIX} unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${valueFrom} from secrets manager: ${describe(error)}`,
        { cause: error },
      );
    }
  }
  const arn = /^arn:aws[a-z-]*:ssm:[^:]*:\d{12}:parameter(\/.+)$/.exec(valueFrom);
  const candidates = arn ? [arn[1]!, arn[1]!.slice(1)] : [valueFrom];
  for (const candidate of candidates) {
    try {
      return ssm.value(candidate);
    } catch (error) {
      if (!(error instanceof AwsError && error.code === 'ParameterNotFound')) throw error;
    }
  }
  throw new SecretResolutionError(`${PREFIX} unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: ${valueFrom}`);
}

function describe(error: unknown): string {
  return error instanceof AwsError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
}
