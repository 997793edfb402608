/**
 * The deployment's IAM roles read from its CloudFormation resources, as AWS would create
 * them: every `AWS::IAM::Role` with its inline `Policies`, plus the `AWS::IAM::Policy` /
 * `AWS::IAM::ManagedPolicy` resources that name it in `Roles`. The functions' role that
 * osls generates at package time (`IamRoleLambdaExecution`, from `provider.iam.role.statements`
 * and its own log statements) is not in `osls print`'s output, so `oslsFunctionRole` builds
 * it the way osls does (lib/plugins/aws/package/lib/merge-iam-templates.js).
 */
import type { CfnResource } from '#shared/config/cloudformation';

/** A role with its policy documents, intrinsics evaluated. */
export interface DeployedRole {
  logicalId: string;
  arn: string;
  /** Where each document comes from (`<role>.Policies[<name>]` or the policy resource's id), for reports. */
  policies: { source: string; document: unknown }[];
}

/** osls's logical ID of the functions' shared role. */
export const OSLS_FUNCTION_ROLE = 'IamRoleLambdaExecution';

/**
 * The `AWS::IAM::Role` osls adds for functions that declare no `role`: the log statements
 * for the functions' log groups, then `provider.iam.role.statements`.
 */
export function oslsFunctionRole(o: { service: string; stage: string; region: string; statements: unknown[] }): CfnResource {
  const prefix = `${o.service}-${o.stage}`;
  const logGroups = { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${prefix}*:*` };
  const logStreams = { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${prefix}*:*:*` };
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: `${prefix}-${o.region}-lambdaRole`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
      },
      Policies: [
        {
          PolicyName: `${prefix}-lambda`,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource'], Resource: [logGroups] },
              { Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: [logStreams] },
              ...o.statements,
            ],
          },
        },
      ],
    },
  };
}

/** Every role in `resources` with its policies; `evaluate` resolves intrinsics, `arnOf` a role's ARN. */
export function deployedRoles(resources: Record<string, CfnResource>, evaluate: (v: unknown) => unknown, arnOf: (logicalId: string) => string): DeployedRole[] {
  const roles = new Map<string, DeployedRole>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const inline = ((r.Properties.Policies ?? []) as { PolicyName?: unknown; PolicyDocument: unknown }[]).map((p) => ({
      source: `${id}.Policies[${String(evaluate(p.PolicyName))}]`,
      document: evaluate(p.PolicyDocument),
    }));
    roles.set(id, { logicalId: id, arn: arnOf(id), policies: inline });
  }
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    for (const ref of (r.Properties.Roles ?? []) as unknown[]) {
      const roleId = typeof ref === 'object' && ref !== null && 'Ref' in ref ? String((ref as { Ref: unknown }).Ref) : undefined;
      const role = roleId ? roles.get(roleId) : [...roles.values()].find((x) => x.arn.endsWith(`/${String(evaluate(ref))}`));
      role?.policies.push({ source: id, document: evaluate(r.Properties.PolicyDocument) });
    }
  }
  return [...roles.values()];
}
