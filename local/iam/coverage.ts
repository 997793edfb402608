/**
 * Which grants of a deployment are needed: given the authorization requests its principals
 * actually made (recorded with LocalIam#onDecision while the engine's paths ran), every
 * Allow statement, and every resource of a statement that lists several, must be the only
 * reason at least one of them is allowed. A grant that can be removed without denying any
 * recorded request is dead (it matches nothing the deployment does, like a malformed ARN);
 * a recorded request the full policies refuse is missing.
 */
import { evaluate, type AuthRequest, type PolicyDocument, type Statement } from './policy.ts';

export interface RecordedRequest extends AuthRequest {
  roleArn: string;
}

export interface Grant {
  roleArn: string;
  policy: number;
  statement: number;
  sid?: string;
  /** Set when the grant is one resource of a statement listing several. */
  resource?: string;
}

export interface Coverage {
  /** Recorded requests the full policies do not allow. */
  missing: RecordedRequest[];
  /** Grants whose removal denies no recorded request. */
  dead: Grant[];
}

/** Checks every grant of `roles` against the recorded requests. */
export function grantCoverage(roles: ReadonlyMap<string, readonly PolicyDocument[]>, recorded: readonly RecordedRequest[]): Coverage {
  const byRole = new Map<string, RecordedRequest[]>();
  for (const r of recorded) byRole.set(r.roleArn, [...(byRole.get(r.roleArn) ?? []), r]);
  const missing = recorded.filter((r) => evaluate(roles.get(r.roleArn) ?? [], r) !== 'Allow');
  const dead: Grant[] = [];
  for (const [roleArn, policies] of roles) {
    const requests = (byRole.get(roleArn) ?? []).filter((r) => evaluate(policies, r) === 'Allow');
    const deniesOne = (mutated: PolicyDocument[]) => requests.some((r) => evaluate(mutated, r) !== 'Allow');
    policies.forEach((policy, p) => {
      policy.Statement.forEach((statement, s) => {
        if (statement.Effect !== 'Allow') return;
        const grant = { roleArn, policy: p, statement: s, ...(statement.Sid ? { sid: statement.Sid } : {}) };
        if (!deniesOne(replace(policies, p, s, undefined))) dead.push(grant);
        const resources = statement.Resource ?? [];
        if (resources.length < 2) return;
        resources.forEach((resource, i) => {
          const without: Statement = { ...statement, Resource: resources.filter((_, j) => j !== i) };
          if (!deniesOne(replace(policies, p, s, without))) dead.push({ ...grant, resource });
        });
      });
    });
  }
  return { missing, dead };
}

/** The policies with statement `s` of policy `p` replaced (or removed when `by` is undefined). */
function replace(policies: readonly PolicyDocument[], p: number, s: number, by: Statement | undefined): PolicyDocument[] {
  return policies.map((policy, i) =>
    i !== p ? policy : { ...policy, Statement: policy.Statement.flatMap((st, j) => (j !== s ? [st] : by ? [by] : [])) },
  );
}
