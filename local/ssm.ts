/**
 * A small SSM Parameter Store on the local endpoint (awsJson1_1, `X-Amz-Target:
 * AmazonSSM.<Operation>`): enough for the Slack webhook's SecureString, so the code that
 * reads it on AWS (GetParameter WithDecryption) runs unchanged locally. Values, SecureString
 * ones included, are kept in plain text under `<dataDir>/state/ssm.json`: this is a
 * developer's machine, not a vault.
 */
import { AwsError, type AwsRequest, type AwsResponse, type LocalService } from './contracts.ts';
import { jsonBody } from './endpoint.ts';
import type { Clock } from './clock.ts';
import type { Faults } from './faults.ts';
import { JsonSnapshot } from './persist.ts';

interface Parameter {
  Name: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Value: string;
  Version: number;
  LastModifiedDate: number;
  DataType: string;
}

export interface LocalSsmOptions {
  clock: Clock;
  faults: Faults;
  region: string;
  account: string;
  dataDir?: string;
}

const NAME = /^(\/?[A-Za-z0-9_.\-/]{1,2048})$/;

/** The local SSM Parameter Store (GetParameter(s), PutParameter, DeleteParameter). */
export class LocalSsm implements LocalService {
  readonly signingName = 'ssm';
  private readonly params = new Map<string, Parameter>();
  private readonly persist: JsonSnapshot<Parameter[]>;

  constructor(private readonly opts: LocalSsmOptions) {
    this.persist = new JsonSnapshot(opts.dataDir, 'ssm', () => [...this.params.values()]);
    for (const p of this.persist.load() ?? []) this.params.set(p.Name, p);
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
    this.opts.faults.check('ssm', operation);
    const body = jsonBody<Record<string, unknown>>(req);
    switch (operation) {
      case 'GetParameter':
        return ok({ Parameter: this.view(this.get(name(body.Name))) });
      case 'GetParameters': {
        const names = Array.isArray(body.Names) ? body.Names.map((n) => name(n)) : [];
        if (names.length === 0 || names.length > 10) throw validation('Names must hold 1 to 10 parameter names.');
        return ok({
          Parameters: names.filter((n) => this.params.has(n)).map((n) => this.view(this.params.get(n)!)),
          InvalidParameters: names.filter((n) => !this.params.has(n)),
        });
      }
      case 'PutParameter':
        return ok(this.put(body));
      case 'DeleteParameter': {
        const n = name(body.Name);
        this.get(n);
        this.params.delete(n);
        this.persist.changed();
        return ok({});
      }
      default:
        throw new AwsError('InvalidAction', `The local SSM does not implement ${operation || 'this operation'} (it serves GetParameter, GetParameters, PutParameter, DeleteParameter).`, 400);
    }
  }

  /** A parameter's value by name (`/a/b` or `a`); throws ParameterNotFound as GetParameter would. */
  value(parameterName: string): string {
    return this.get(parameterName).Value;
  }

  /** Writes state now; called when the stack stops. */
  flush(): void {
    this.persist.flush();
  }

  private get(n: string): Parameter {
    const p = this.params.get(n);
    if (!p) throw new AwsError('ParameterNotFound', `Parameter ${n} not found.`, 400);
    return p;
  }

  private put(body: Record<string, unknown>): { Version: number; Tier: string } {
    const n = name(body.Name);
    if (typeof body.Value !== 'string' || body.Value.length === 0) throw validation('Value must be a non-empty string.');
    const existing = this.params.get(n);
    if (existing && body.Overwrite !== true) {
      throw new AwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.', 400);
    }
    const type = body.Type ?? existing?.Type ?? 'String';
    if (type !== 'String' && type !== 'StringList' && type !== 'SecureString') {
      throw validation(`Type must be String, StringList or SecureString (got ${JSON.stringify(type)}).`);
    }
    const p: Parameter = {
      Name: n,
      Type: type,
      Value: body.Value,
      Version: (existing?.Version ?? 0) + 1,
      LastModifiedDate: this.opts.clock.now() / 1000,
      DataType: 'text',
    };
    this.params.set(n, p);
    this.persist.changed();
    return { Version: p.Version, Tier: 'Standard' };
  }

  private view(p: Parameter): Parameter & { ARN: string } {
    const path = p.Name.startsWith('/') ? p.Name : `/${p.Name}`;
    return { ...p, ARN: `arn:aws:ssm:${this.opts.region}:${this.opts.account}:parameter${path}` };
  }
}

function name(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw validation(`Name must be a parameter name of letters, digits and . - _ / (got ${JSON.stringify(value)}).`);
  }
  return value;
}

function validation(message: string): AwsError {
  return new AwsError('ValidationException', message, 400);
}

function ok(body: unknown): AwsResponse {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body };
}
