/**
 * IAM in the local stack: the deployment's principals, each with its own credentials (as STS
 * hands them to an assumed role), SigV4 verification for those credentials, and the
 * authorization of every request they make against the role's identity policies.
 *
 *   request ──▶ endpoint ──▶ authorizeRequest ──┬─ no credentials of a deployed role: unrestricted
 *                                               │  (the AWS CLI, tests: "any credentials", as LocalStack)
 *                                               ├─ a deployed role's access key: signature verified
 *                                               │  with its secret, else refused
 *                                               └─ authorizationFor(table) ──▶ evaluate(policies)
 *                                                  ──▶ allowed, or AccessDenied in the protocol's shape
 *   Scheduler (target role), Batch (execution role) ──▶ check(): the same evaluation, in process
 *
 * Services ask it; none implements a check of its own. Every decision can be observed
 * (`onDecision`), which the template mutation test uses to collect what each engine path
 * is authorized on.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError, DEFAULT_REGION, LOCAL_ACCOUNT, type AwsRequest } from '../contracts.ts';
import { authorizationFor, type Authorization } from './authorization.ts';
import { evaluate, parsePolicy, type AuthRequest, type Decision, type PolicyDocument } from './policy.ts';
import { taskStartSteps, type TaskStart } from './task.ts';

export { authorizationFor, logStreamArn, parameterArn } from './authorization.ts';
export { taskStartSteps, type TaskStart, type TaskStep } from './task.ts';
export { evaluate, parsePolicy, type AuthRequest, type Decision, type PolicyDocument } from './policy.ts';

/** Temporary credentials of an assumed role, in the SDK's (and the env variables') terms. */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** Who a deployed principal is. */
export interface Principal {
  roleName: string;
  roleArn: string;
  sessionName: string;
  /** `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, as AWS names the caller in a denial. */
  assumedRoleArn: string;
}

/** One authorization decision, as `onDecision` observers see it. */
export interface DecisionRecord extends AuthRequest {
  roleArn: string;
  decision: Decision;
}

interface Session extends Principal, RoleCredentials {}

/** The protocol a service speaks decides the shape of its AccessDenied answer. */
const JSON_PROTOCOL_SERVICES = new Set(['dynamodb', 'ssm', 'events', 'logs', 'secretsmanager']);

export class LocalIam {
  private readonly roles = new Map<string, PolicyDocument[]>();
  private readonly sessions = new Map<string, Session>();
  /** `<role ARN>\n<session name>` -> access key id. */
  private readonly sessionKeys = new Map<string, string>();
  private readonly listeners = new Set<(r: DecisionRecord) => void>();
  private readonly context = new AsyncLocalStorage<RoleCredentials>();
  private secretArnResolver: ((name: string) => string | undefined) | undefined;
  private jobDefinitionResolver: ((ref: string) => string | undefined) | undefined;
  readonly region: string;
  readonly account: string;

  constructor(opts: { region?: string; account?: string } = {}) {
    this.region = opts.region ?? DEFAULT_REGION;
    this.account = opts.account ?? LOCAL_ACCOUNT;
  }

  /** Declares (or replaces) a role and its identity policies; throws on a statement the evaluator cannot honour. */
  putRole(roleArn: string, policies: unknown[]): void {
    this.roles.set(roleArn, policies.map((p, i) => {
      try {
        return parsePolicy(p);
      } catch (error) {
        throw new Error(`IAM role ${roleArn}, policy ${i + 1}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }));
  }

  /** How a secret's name maps to its full ARN (set by the local Secrets Manager). */
  setSecretArnResolver(resolve: ((name: string) => string | undefined) | undefined): void {
    this.secretArnResolver = resolve;
  }

  /** How a job definition reference maps to its ARN with revision (set by the local Batch). */
  setJobDefinitionResolver(resolve: ((ref: string) => string | undefined) | undefined): void {
    this.jobDefinitionResolver = resolve;
  }

  /** The roles declared so far and their policies. */
  rolePolicies(): ReadonlyMap<string, readonly PolicyDocument[]> {
    return this.roles;
  }

  hasRole(roleArn: string): boolean {
    return this.roles.has(roleArn);
  }

  /**
   * Credentials of a new session of a declared role, as sts:AssumeRole returns them. The
   * same role and session name give the same credentials for the life of the stack.
   */
  assumeRole(roleArn: string, sessionName: string): RoleCredentials {
    if (!this.roles.has(roleArn)) throw new Error(`IAM: no role ${roleArn} is declared in the deployment`);
    const existing = this.sessions.get(this.sessionKeys.get(`${roleArn}\n${sessionName}`) ?? '');
    if (existing) return { accessKeyId: existing.accessKeyId, secretAccessKey: existing.secretAccessKey, sessionToken: existing.sessionToken };
    const roleName = roleArn.slice(roleArn.indexOf(':role/') + ':role/'.length).split('/').pop()!;
    const session: Session = {
      roleName,
      roleArn,
      sessionName,
      assumedRoleArn: `arn:aws:sts::${this.account}:assumed-role/${roleName}/${sessionName}`,
      accessKeyId: `ASIA${randomBytes(12).toString('hex').toUpperCase().slice(0, 16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
    };
    this.sessions.set(session.accessKeyId, session);
    this.sessionKeys.set(`${roleArn}\n${sessionName}`, session.accessKeyId);
    return { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
  }

  /** The principal an access key belongs to, if it is a deployed role's. */
  principalOf(accessKeyId: string): Principal | undefined {
    const s = this.sessions.get(accessKeyId);
    return s && { roleName: s.roleName, roleArn: s.roleArn, sessionName: s.sessionName, assumedRoleArn: s.assumedRoleArn };
  }

  /** Observes every decision made for a deployed principal; returns the unsubscribe function. */
  onDecision(listener: (r: DecisionRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` as a role session: SDK clients of this process built with the credential
   * source of `#shared/clients/credentials` sign what `fn` sends with these credentials.
   * The local Lambda runtime runs each function's handler this way.
   */
  runAs<T>(credentials: RoleCredentials, fn: () => T): T {
    return this.context.run(credentials, fn);
  }

  /** The credentials of the session the current async context runs as, if any. */
  currentCredentials(): RoleCredentials | undefined {
    return this.context.getStore();
  }

  /** Evaluates one request of a principal; records the decision. */
  decide(principal: Principal, request: AuthRequest): Decision {
    const decision = evaluate(this.roles.get(principal.roleArn) ?? [], request);
    const record: DecisionRecord = { ...request, roleArn: principal.roleArn, decision };
    for (const l of this.listeners) l(record);
    return decision;
  }

  /** AWS's words for a refusal. */
  deniedMessage(principal: Principal, request: AuthRequest, decision: Decision): string {
    const because =
      decision === 'ExplicitDeny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${request.action} action`;
    return `User: ${principal.assumedRoleArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${because}`;
  }

  /**
   * Every check of an authorization, in order; the first refused one is returned with its
   * message (undefined when all are allowed).
   */
  firstDenied(principal: Principal, auth: Authorization | AuthRequest[]): { request: AuthRequest; message: string } | undefined {
    for (const request of Array.isArray(auth) ? auth : auth.checks) {
      const decision = this.decide(principal, request);
      if (decision !== 'Allow') return { request, message: this.deniedMessage(principal, request, decision) };
    }
    return undefined;
  }

  /**
   * An in-process check for a service acting with a role (Scheduler with a target's role,
   * Batch with a job's execution role): the denial message of the first refused request, or
   * undefined when all are allowed. A role the deployment does not declare is unrestricted,
   * as unknown credentials are at the endpoint.
   */
  checkRole(roleArn: string | undefined, sessionName: string, requests: AuthRequest[]): string | undefined {
    if (!roleArn || !this.roles.has(roleArn)) return undefined;
    const roleName = roleArn.split('/').pop()!;
    const principal: Principal = { roleArn, roleName, sessionName, assumedRoleArn: `arn:aws:sts::${this.account}:assumed-role/${roleName}/${sessionName}` };
    return this.firstDenied(principal, requests)?.message;
  }

  /**
   * Why a Fargate task could not start with its execution role (ECS's status reason), or
   * undefined when every step is allowed (or the role is not the deployment's).
   */
  taskStartDenial(executionRoleArn: string | undefined, sessionName: string, start: Omit<TaskStart, 'region' | 'account'>): string | undefined {
    // A `valueFrom` may be a partial secret ARN (no suffix); IAM authorizes the secret's full ARN.
    const secrets = start.secrets?.map((secret) => ({ ...secret, valueFrom: this.fullSecretValueFrom(secret.valueFrom) }));
    for (const step of taskStartSteps({ ...start, ...(secrets ? { secrets } : {}), region: this.region, account: this.account })) {
      const denied = this.checkRole(executionRoleArn, sessionName, step.requests);
      if (denied) return step.reason(denied);
    }
    return undefined;
  }

  private fullSecretValueFrom(valueFrom: string | undefined): string | undefined {
    if (!valueFrom?.startsWith('arn:aws:secretsmanager:') || !this.secretArnResolver) return valueFrom;
    const parts = valueFrom.split(':');
    const full = this.secretArnResolver(parts.slice(0, 7).join(':'));
    return full ? [full, ...parts.slice(7)].join(':') : valueFrom;
  }

  /**
   * The variables a process needs to act as a declared role's session against this stack
   * (the job role of a Batch job, as ECS hands it to the container); undefined for a role
   * the deployment does not declare.
   */
  roleEnvironment(roleArn: string | undefined, sessionName: string): Record<string, string> | undefined {
    if (!roleArn || !this.roles.has(roleArn)) return undefined;
    const c = this.assumeRole(roleArn, sessionName);
    return { AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey, AWS_SESSION_TOKEN: c.sessionToken };
  }

  /**
   * The endpoint's gate. Requests without a deployed role's access key pass untouched; a
   * deployed role's must carry a valid signature for its secret and be allowed by its policies.
   * Throws AwsError in the service's own shape otherwise.
   */
  async authorizeRequest(req: AwsRequest, rawUrl: string): Promise<void> {
    const accessKeyId = accessKeyOf(req);
    if (!accessKeyId) return;
    const session = this.sessions.get(accessKeyId);
    if (!session) return;
    await this.verifySignature(req, rawUrl, session);
    const denied = this.firstDenied(session, authorizationFor(req, {
        region: this.region,
        account: this.account,
        ...(this.secretArnResolver ? { secretArn: this.secretArnResolver } : {}),
        ...(this.jobDefinitionResolver ? { jobDefinitionArn: this.jobDefinitionResolver } : {}),
      }));
    if (denied) throw accessDenied(req.service, denied.message);
  }

  private async verifySignature(req: AwsRequest, rawUrl: string, session: Session): Promise<void> {
    const auth = String(req.headers.authorization ?? '');
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!m || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== m[2]) {
      throw new AwsError('IncompleteSignatureException', 'The request signature is not a complete AWS Signature Version 4 (Credential, SignedHeaders, Signature and X-Amz-Date).', 403);
    }
    if (String(req.headers['x-amz-security-token'] ?? '') !== session.sessionToken) {
      throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403);
    }
    const [, , , region, service, signedHeaderList, signature] = m;
    const signed = signedHeaderList!.split(';');
    const headers: Record<string, string> = {};
    for (const name of signed) {
      const v = req.headers[name];
      if (v === undefined) throw signatureMismatch();
      headers[name] = Array.isArray(v) ? v.join(',') : v;
    }
    const url = new URL(rawUrl, 'http://localhost');
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(key);
      query[key] = all.length === 1 ? all[0]! : all;
    }
    const signer = new SignatureV4({
      credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken },
      region: region!,
      service: service!,
      sha256: Sha256,
      // S3 alone signs the path as sent; every service here (none is S3) escapes it once more.
      uriEscapePath: true,
      // Hash the payload only when the client did not sign an x-amz-content-sha256 header
      // (the SDKs send one, the AWS CLI does not): never add a header it did not sign.
      applyChecksum: false,
    });
    const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    // The request as the client signed it: exactly its signed headers, its raw path and query.
    const toSign = { method: req.method, protocol: 'http:', hostname: url.hostname, path: url.pathname, query, headers, body: req.body.length > 0 ? req.body : undefined };
    const expected = await signer.sign(toSign as Parameters<SignatureV4['presign']>[0], { signingDate: date, signableHeaders: new Set(signed) });
    const want = /Signature=([0-9a-f]{64})/.exec(String((expected as { headers: Record<string, string> }).headers.authorization ?? ''))?.[1] ?? '';
    if (want.length !== signature!.length || !timingSafeEqual(Buffer.from(want), Buffer.from(signature!))) throw signatureMismatch();
  }
}

function accessKeyOf(req: AwsRequest): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
}

function signatureMismatch(): AwsError {
  return new AwsError(
    'InvalidSignatureException',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    403,
  );
}

/**
 * AccessDeniedException as each protocol carries it: awsJson services answer 400 with
 * `__type` (DynamoDB's namespaced as coral does), restJson services 403 with the error
 * type in `x-amzn-ErrorType`.
 */
export function accessDenied(service: string, message: string): AwsError {
  if (service === 'dynamodb') return new AwsError('AccessDeniedException', message, 400, { __type: 'com.amazon.coral.service#AccessDeniedException' });
  if (JSON_PROTOCOL_SERVICES.has(service)) return new AwsError('AccessDeniedException', message, 400);
  // Lambda's restJson errors also carry `Type: User`.
  return new AwsError('AccessDeniedException', message, 403, service === 'lambda' ? { Type: 'User' } : {});
}
