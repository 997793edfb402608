/**
 * The local seed file (`local-seed.yml` beside serverless.yml): values the local deploy puts
 * in the stack's Parameter Store and Secrets Manager when they are missing, so jobs whose
 * `secrets` read them start on a fresh clone without a setup step. The values go through the
 * stack's own API as the deploying user (as `aws ssm put-parameter` would), are never
 * overwritten once there (a value changed with the AWS CLI stays) and are never printed:
 * only names are reported. Nothing deploys this file to AWS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ParameterAlreadyExists, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateSecretCommand, ResourceExistsException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LocalSeedError } from '#shared/errors';

export const LOCAL_SEED_FILE = 'local-seed.yml';

/** `${sls:stage}` in a name is the stage being deployed. */
const STAGE = '${sls:stage}';
const SSM_NAME = /^\/?[A-Za-z0-9_.\-${}:/]+$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@\-${}:]{1,512}$/;

const LocalSeedSchema = z.strictObject({
  /** Parameter name -> value (created as a SecureString). */
  ssm: z.optional(
    z.record(
      z.string().check(z.regex(SSM_NAME, 'must be an SSM parameter name, e.g. "/batchron/${sls:stage}/db-password"')),
      z.string().check(z.minLength(1, 'must be a non-empty string')),
    ),
  ),
  /** Secret name -> value: a string, or an object stored as JSON (for `key:` in a job's secrets). */
  secretsManager: z.optional(
    z.record(
      z.string().check(z.regex(SECRET_NAME, 'must be a Secrets Manager secret name (letters, digits and /_+=.@-)')),
      z.union([z.string().check(z.minLength(1, 'must be a non-empty string')), z.record(z.string(), z.unknown())], {
        error: 'must be a string or a map (stored as JSON)',
      }),
    ),
  ),
});

/** What a seed file declares, names resolved for one stage. */
export interface LocalSeed {
  ssm: { name: string; value: string }[];
  secretsManager: { name: string; value: string }[];
}

/** Names created by this deploy and names that already had a value (kept). */
export interface SeedReport {
  created: string[];
  kept: string[];
}

/** Reads `<projectDir>/local-seed.yml`; undefined when there is none. Throws LocalSeedError naming each bad field. */
export function loadLocalSeed(projectDir: string, stage: string): LocalSeed | undefined {
  const file = join(projectDir, LOCAL_SEED_FILE);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8')) ?? {};
  } catch (error) {
    throw new LocalSeedError(LOCAL_SEED_FILE, [`not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`]);
  }
  const parsed = LocalSeedSchema.safeParse(raw);
  if (!parsed.success) {
    // Field paths and zod's message only: never the input, which may hold a value.
    throw new LocalSeedError(
      LOCAL_SEED_FILE,
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}; allowed: ssm, secretsManager` : i.message}`),
    );
  }
  const named = (name: string) => name.split(STAGE).join(stage);
  return {
    ssm: Object.entries(parsed.data.ssm ?? {}).map(([name, value]) => ({ name: named(name), value })),
    secretsManager: Object.entries(parsed.data.secretsManager ?? {}).map(([name, value]) => ({
      name: named(name),
      value: typeof value === 'string' ? value : JSON.stringify(value),
    })),
  };
}

/** Creates each missing parameter (SecureString) and secret through the stack's endpoint; existing ones are kept. */
export async function applyLocalSeed(
  seed: LocalSeed,
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
): Promise<SeedReport> {
  const report: SeedReport = { created: [], kept: [] };
  const ssm = new SSMClient({ ...clientConfig, maxAttempts: 1 });
  const secretsManager = new SecretsManagerClient({ ...clientConfig, maxAttempts: 1 });
  try {
    for (const { name, value } of seed.ssm) {
      try {
        await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: false }));
        report.created.push(name);
      } catch (error) {
        if (!(error instanceof ParameterAlreadyExists)) throw error;
        report.kept.push(name);
      }
    }
    for (const { name, value } of seed.secretsManager) {
      try {
        await secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: value, Description: `seeded from ${LOCAL_SEED_FILE}` }));
        report.created.push(name);
      } catch (error) {
        if (!(error instanceof ResourceExistsException)) throw error;
        report.kept.push(name);
      }
    }
  } finally {
    ssm.destroy();
    secretsManager.destroy();
  }
  return report;
}
