/**
 * IAM identity-policy evaluation, the subset the deployment's templates use, after the IAM
 * User Guide's "Policy evaluation logic" (reference_policies_evaluation-logic.html):
 *
 *   any matching Deny  ──▶ explicit deny
 *   else any matching Allow ──▶ allow
 *   else ──▶ implicit deny
 *
 * A statement matches a request when its Action (or NotAction), Resource (or NotResource)
 * and every Condition match. Actions match case-insensitively with `*` and `?` wildcards;
 * resources match case-sensitively with `*` and `?` (which may span `:` and `/`, as in IAM).
 * Conditions: the String*, Arn*, Bool and Null operators, each with `...IfExists`, and the
 * ForAnyValue:/ForAllValues: set qualifiers. Policy variables (`${aws:username}`) and the
 * numeric, date and IP operators are not implemented: a statement that uses one is refused
 * when the policies are loaded (parsePolicy), never silently ignored.
 *
 * Written here rather than taken from npm: the one maintained evaluator (@cloud-copilot/iam-simulate)
 * is AGPL-3.0, which an Apache-2.0 project cannot ship; `pbac` is only "IAM-inspired".
 */
import { z } from 'zod';

const StringOrList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

const CONDITION_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Bool',
  'Null',
] as const;

const ConditionValue = z
  .union([z.string(), z.boolean(), z.number(), z.array(z.union([z.string(), z.boolean(), z.number()]))])
  .transform((v) => (Array.isArray(v) ? v : [v]).map(String));

const ConditionBlock = z
  .record(z.string(), z.record(z.string(), ConditionValue))
  .superRefine((block, ctx) => {
    for (const op of Object.keys(block)) {
      const base = op.replace(/^For(AnyValue|AllValues):/, '').replace(/IfExists$/, '');
      if (!(CONDITION_OPERATORS as readonly string[]).includes(base)) {
        ctx.addIssue({ code: 'custom', message: `condition operator ${op} is not supported by the local IAM (supported: ${CONDITION_OPERATORS.join(', ')}, with IfExists / ForAnyValue: / ForAllValues:)` });
      }
    }
  });

export const StatementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: StringOrList.optional(),
    NotAction: StringOrList.optional(),
    Resource: StringOrList.optional(),
    NotResource: StringOrList.optional(),
    Condition: ConditionBlock.optional(),
  })
  .refine((s) => (s.Action === undefined) !== (s.NotAction === undefined), { message: 'a statement needs exactly one of Action and NotAction' })
  .refine((s) => (s.Resource === undefined) !== (s.NotResource === undefined), { message: 'an identity-policy statement needs exactly one of Resource and NotResource' })
  .refine((s) => ![...(s.Resource ?? []), ...(s.NotResource ?? [])].some((r) => r.includes('${')), { message: 'policy variables (${...}) in resources are not supported by the local IAM' });

export type Statement = z.infer<typeof StatementSchema>;

export const PolicyDocumentSchema = z.object({
  Version: z.string().optional(),
  Statement: z.union([StatementSchema, z.array(StatementSchema)]).transform((v) => (Array.isArray(v) ? v : [v])),
});

export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;

/** Parses a policy document; throws with the statement and field that are not supported. */
export function parsePolicy(document: unknown): PolicyDocument {
  return PolicyDocumentSchema.parse(document);
}

/** One authorization request: an action on one resource, with its context keys. */
export interface AuthRequest {
  action: string;
  resource: string;
  /** Condition context keys (`aws:SourceAccount`, `iam:PassedToService`, ...); keys compare case-insensitively. */
  context?: Record<string, string | string[]>;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** Evaluates identity policies for one request. */
export function evaluate(policies: readonly PolicyDocument[], request: AuthRequest): Decision {
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.Statement) {
      if (!statementMatches(statement, request)) continue;
      if (statement.Effect === 'Deny') return 'ExplicitDeny';
      allowed = true;
    }
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

/** Whether a statement applies to a request (its effect aside). */
export function statementMatches(s: Statement, request: AuthRequest): boolean {
  const actionHit = (patterns: string[]) => patterns.some((p) => wildcard(p, true).test(request.action));
  if (s.Action && !actionHit(s.Action)) return false;
  if (s.NotAction && actionHit(s.NotAction)) return false;
  const resourceHit = (patterns: string[]) => patterns.some((p) => wildcard(p, false).test(request.resource));
  if (s.Resource && !resourceHit(s.Resource)) return false;
  if (s.NotResource && resourceHit(s.NotResource)) return false;
  return conditionsMatch(s.Condition ?? {}, request.context ?? {});
}

const cache = new Map<string, RegExp>();

/** IAM's wildcard: `*` any run of characters, `?` one character, everything else literal. */
export function wildcard(pattern: string, ignoreCase: boolean): RegExp {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = cache.get(key);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    cache.set(key, re);
  }
  return re;
}

function conditionsMatch(block: NonNullable<Statement['Condition']>, context: Record<string, string | string[]>): boolean {
  const lowered = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));
  for (const [rawOp, keys] of Object.entries(block)) {
    const set = /^ForAllValues:/.test(rawOp) ? 'all' : /^ForAnyValue:/.test(rawOp) ? 'any' : undefined;
    const ifExists = rawOp.endsWith('IfExists');
    const op = rawOp.replace(/^For(AnyValue|AllValues):/, '').replace(/IfExists$/, '');
    for (const [key, wanted] of Object.entries(keys)) {
      const values = lowered.get(key.toLowerCase());
      if (op === 'Null') {
        // Null: "true" matches when the key is absent, "false" when it is present.
        if (wanted.some((w) => (w === 'true') === (values === undefined)) === false) return false;
        continue;
      }
      if (values === undefined) {
        if (ifExists || set === 'all') continue;
        return false;
      }
      const one = (v: string) => valueMatches(op, v, wanted);
      const ok = set === 'all' ? values.every(one) : values.some(one);
      // A negated operator on a multi-valued key without a set qualifier: every value must pass.
      if (!ok) return false;
    }
  }
  return true;
}

function valueMatches(op: string, value: string, wanted: string[]): boolean {
  switch (op) {
    case 'StringEquals':
    case 'ArnEquals':
      return op === 'ArnEquals' ? wanted.some((w) => wildcard(w, false).test(value)) : wanted.includes(value);
    case 'StringNotEquals':
      return !wanted.includes(value);
    case 'StringEqualsIgnoreCase':
      return wanted.some((w) => w.toLowerCase() === value.toLowerCase());
    case 'StringNotEqualsIgnoreCase':
      return !wanted.some((w) => w.toLowerCase() === value.toLowerCase());
    case 'StringLike':
    case 'ArnLike':
      return wanted.some((w) => wildcard(w, false).test(value));
    case 'StringNotLike':
    case 'ArnNotLike':
    case 'ArnNotEquals':
      return !wanted.some((w) => wildcard(w, false).test(value));
    case 'Bool':
      return wanted.some((w) => w.toLowerCase() === value.toLowerCase());
    default:
      return false;
  }
}
