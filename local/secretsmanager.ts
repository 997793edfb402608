/**
 * A small Secrets Manager on the local endpoint (awsJson1_1, `X-Amz-Target:
 * secretsmanager.<Operation>`): CreateSecret and PutSecretValue so a user can seed a
 * secret (`aws secretsmanager create-secret ...` against the stack), GetSecretValue for
 * code that reads one, DescribeSecret and DeleteSecret (immediate, no recovery window).
 * The local Batch resolves job definitions' `secrets` from here and from the local SSM
 * (local/secrets.ts). Values are kept in plain text under `<dataDir>/state/secretsmanager.json`:
 * this is a developer's machine, not a vault.
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsError, type AwsRequest, type AwsResponse, type LocalService } from './contracts.ts';
import { jsonBody } from './endpoint.ts';
import type { Clock } from './clock.ts';
import type { Faults } from './faults.ts';
import { JsonSnapshot } from './persist.ts';

interface Secret {
  Name: string;
  ARN: string;
  Description?: string;
  SecretString: string;
  VersionId: string;
  CreatedDate: number;
  LastChangedDate: number;
}

export interface LocalSecretsManagerOptions {
  clock: Clock;
  faults: Faults;
  region: string;
  account: string;
  dataDir?: string;
}

const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** The local Secrets Manager (string secrets only). */
export class LocalSecretsManager implements LocalService {
  readonly signingName = 'secretsmanager';
  private readonly secrets = new Map<string, Secret>();
  private readonly persist: JsonSnapshot<Secret[]>;

  constructor(private readonly opts: LocalSecretsManagerOptions) {
    this.persist = new JsonSnapshot(opts.dataDir, 'secretsmanager', () => [...this.secrets.values()]);
    for (const s of this.persist.load() ?? []) this.secrets.set(s.Name, s);
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
    this.opts.faults.check('secretsmanager', operation);
    const body = jsonBody<Record<string, unknown>>(req);
    switch (operation) {
      case 'CreateSecret':
        return ok(this.create(body));
      case 'PutSecretValue': {
        const s = this.find(body.SecretId);
        s.SecretString = secretString(body.SecretString);
        s.VersionId = versionId(body.ClientRequestToken);
        s.LastChangedDate = this.opts.clock.now() / 1000;
        this.persist.changed();
        return ok({ ARN: s.ARN, Name: s.Name, VersionId: s.VersionId, VersionStages: ['AWSCURRENT'] });
      }
      case 'GetSecretValue': {
        const s = this.find(body.SecretId);
        return ok({ ARN: s.ARN, Name: s.Name, VersionId: s.VersionId, SecretString: s.SecretString, VersionStages: ['AWSCURRENT'], CreatedDate: s.LastChangedDate });
      }
      case 'DescribeSecret': {
        const s = this.find(body.SecretId);
        return ok({ ARN: s.ARN, Name: s.Name, Description: s.Description, CreatedDate: s.CreatedDate, LastChangedDate: s.LastChangedDate });
      }
      case 'DeleteSecret': {
        const s = this.find(body.SecretId);
        this.secrets.delete(s.Name);
        this.persist.changed();
        return ok({ ARN: s.ARN, Name: s.Name, DeletionDate: this.opts.clock.now() / 1000 });
      }
      default:
        throw new AwsError(
          'InvalidAction',
          `The local Secrets Manager does not implement ${operation || 'this operation'} (it serves CreateSecret, PutSecretValue, GetSecretValue, DescribeSecret, DeleteSecret).`,
          400,
        );
    }
  }

  /**
   * The value of a secret by name, full ARN or partial ARN (without the 6-character
   * suffix), with an optional JSON key: what ECS does with a `valueFrom` of
   * `arn:...:secret:NAME[:json-key::]`. Throws AwsError as GetSecretValue would.
   */
  value(secretId: string, jsonKey?: string): string {
    const s = this.find(secretId);
    if (jsonKey === undefined || jsonKey === '') return s.SecretString;
    let parsed: unknown;
    try {
      parsed = JSON.parse(s.SecretString);
    } catch {
      throw new AwsError('InvalidRequestException', `The secret ${s.Name} is not a JSON object, so key ${jsonKey} cannot be read.`, 400);
    }
    const v = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[jsonKey] : undefined;
    if (v === undefined) throw new AwsError('InvalidRequestException', `The secret ${s.Name} has no JSON key ${jsonKey}.`, 400);
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  /** The full ARN (with its 6-character suffix) of a secret by name or partial ARN; undefined when there is none. */
  arnOf(secretId: string): string | undefined {
    try {
      return this.find(secretId).ARN;
    } catch {
      return undefined;
    }
  }

  /** Writes state now; called when the stack stops. */
  flush(): void {
    this.persist.flush();
  }

  private create(body: Record<string, unknown>): { ARN: string; Name: string; VersionId: string } {
    const name = body.Name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new AwsError('ValidationException', `Name must be 1-512 letters, digits and /_+=.@- (got ${JSON.stringify(name)}).`, 400);
    }
    if (this.secrets.has(name)) throw new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`, 400);
    const now = this.opts.clock.now() / 1000;
    // AWS appends "-" and six random characters; a hash keeps a re-created local secret's ARN stable.
    const suffix = createHash('sha256').update(name).digest('base64url').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 6);
    const secret: Secret = {
      Name: name,
      ARN: `arn:aws:secretsmanager:${this.opts.region}:${this.opts.account}:secret:${name}-${suffix}`,
      ...(typeof body.Description === 'string' ? { Description: body.Description } : {}),
      SecretString: secretString(body.SecretString),
      VersionId: versionId(body.ClientRequestToken),
      CreatedDate: now,
      LastChangedDate: now,
    };
    this.secrets.set(name, secret);
    this.persist.changed();
    return { ARN: secret.ARN, Name: secret.Name, VersionId: secret.VersionId };
  }

  /** By name, full ARN, or partial ARN (name without the suffix). */
  private find(id: unknown): Secret {
    if (typeof id !== 'string' || id.length === 0) throw new AwsError('ValidationException', 'SecretId must be a secret name or ARN.', 400);
    const arn = /^arn:aws[a-z-]*:secretsmanager:[^:]*:\d{12}:secret:(.+)$/.exec(id);
    const name = arn ? arn[1]! : id;
    const found = this.secrets.get(name) ?? [...this.secrets.values()].find((s) => s.ARN === id);
    if (!found) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.", 400);
    return found;
  }
}

function secretString(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsError('InvalidRequestException', 'SecretString must be a non-empty string (the local Secrets Manager keeps string secrets only).', 400);
  }
  return value;
}

function versionId(token: unknown): string {
  return typeof token === 'string' && token.length > 0 ? token : randomUUID();
}

function ok(body: unknown): AwsResponse {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body };
}
