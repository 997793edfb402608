/**
 * The local IAM's policy evaluation, against the examples of the IAM User Guide:
 * "The difference between explicit and implicit denies" (reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay),
 * "IAM JSON policy elements: NotAction" (reference_policies_elements_notaction),
 * "IAM JSON policy elements: NotResource" (reference_policies_elements_notresource),
 * "Condition operators" (reference_policies_elements_condition_operators), and the wildcard rules
 * of "IAM JSON policy elements: Action / Resource".
 */
import { describe, expect, it } from 'vitest';
import { evaluate, parsePolicy, type AuthRequest, type Decision } from '#local/iam/policy';

const doc = (...Statement: unknown[]) => parsePolicy({ Version: '2012-10-17', Statement });

// Interplay page: AllowGetList allows iam:Get* / iam:List*; DenyReports denies iam:*Report.
const allowGetListDenyReports = doc(
  { Sid: 'AllowGetList', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
  { Sid: 'DenyReports', Effect: 'Deny', Action: 'iam:*Report', Resource: '*' },
);
const generateCredentialReport = doc({ Effect: 'Allow', Action: 'iam:GenerateCredentialReport', Resource: '*' });

// NotAction page: every S3 action on any S3 resource except DeleteBucket.
const allS3ButDeleteBucket = doc({ Effect: 'Allow', NotAction: 's3:DeleteBucket', Resource: 'arn:aws:s3:::*' });

// NotAction page: deny everything but IAM when the request was not made with MFA.
const denyAllButIamWithoutMfa = doc({ Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } });
const allowAll = doc({ Effect: 'Allow', Action: '*', Resource: '*' });

// NotResource page: deny S3 outside the payroll folder.
const denyOutsidePayroll = doc({ Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] });

// The deployment's own condition: PassRole only to Scheduler.
const passToScheduler = doc({
  Effect: 'Allow',
  Action: 'iam:PassRole',
  Resource: 'arn:aws:iam::000000000000:role/scheduler',
  Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
});

const cases: [string, ReturnType<typeof doc>[], AuthRequest, Decision][] = [
  ['Get* allows iam:GetUser', [allowGetListDenyReports], { action: 'iam:GetUser', resource: '*' }, 'Allow'],
  ['nothing allows iam:CreatePolicy (implicit deny)', [allowGetListDenyReports], { action: 'iam:CreatePolicy', resource: '*' }, 'ImplicitDeny'],
  ['*Report denies iam:GetOrganizationsAccessReport although Get* allows it', [allowGetListDenyReports], { action: 'iam:GetOrganizationsAccessReport', resource: '*' }, 'ExplicitDeny'],
  ['the explicit deny wins over another policy allowing GenerateCredentialReport', [allowGetListDenyReports, generateCredentialReport], { action: 'iam:GenerateCredentialReport', resource: '*' }, 'ExplicitDeny'],
  ['NotAction+Allow allows s3:GetObject on an object', [allS3ButDeleteBucket], { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/key' }, 'Allow'],
  ['NotAction+Allow does not allow the excluded s3:DeleteBucket', [allS3ButDeleteBucket], { action: 's3:DeleteBucket', resource: 'arn:aws:s3:::bucket' }, 'ImplicitDeny'],
  ['NotAction+Allow does not allow ListAllMyBuckets, which needs the "*" resource', [allS3ButDeleteBucket], { action: 's3:ListAllMyBuckets', resource: '*' }, 'ImplicitDeny'],
  ['NotAction+Allow scoped to S3 resources allows no other service', [allS3ButDeleteBucket], { action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/t' }, 'ImplicitDeny'],
  ['NotAction+Deny without MFA denies s3:ListBucket', [allowAll, denyAllButIamWithoutMfa], { action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 'aws:MultiFactorAuthPresent': 'false' } }, 'ExplicitDeny'],
  ['NotAction+Deny leaves IAM actions alone', [allowAll, denyAllButIamWithoutMfa], { action: 'iam:ListUsers', resource: '*', context: { 'aws:MultiFactorAuthPresent': 'false' } }, 'Allow'],
  ['BoolIfExists matches a request without the key (long-term keys carry no MFA key)', [allowAll, denyAllButIamWithoutMfa], { action: 's3:ListBucket', resource: 'arn:aws:s3:::b' }, 'ExplicitDeny'],
  ['with MFA the deny does not apply', [allowAll, denyAllButIamWithoutMfa], { action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 'aws:MultiFactorAuthPresent': 'true' } }, 'Allow'],
  ['NotResource+Deny leaves the payroll folder allowed', [allowAll, denyOutsidePayroll], { action: 's3:GetObject', resource: 'arn:aws:s3:::HRBucket/Payroll/2026.csv' }, 'Allow'],
  ['NotResource+Deny denies everything outside it', [allowAll, denyOutsidePayroll], { action: 's3:GetObject', resource: 'arn:aws:s3:::HRBucket/Other/x' }, 'ExplicitDeny'],
  ['actions match case-insensitively', [allS3ButDeleteBucket], { action: 'S3:getobject', resource: 'arn:aws:s3:::b/k' }, 'Allow'],
  ['resources match case-sensitively', [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::Bucket/*' })], { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/k' }, 'ImplicitDeny'],
  ['? matches exactly one character', [doc({ Effect: 'Allow', Action: 'batch:SubmitJob', Resource: 'arn:aws:batch:*:*:job-queue/q?' })], { action: 'batch:SubmitJob', resource: 'arn:aws:batch:us-east-1:1:job-queue/q1' }, 'Allow'],
  ['* in a resource spans ":" and "/"', [doc({ Effect: 'Allow', Action: 'logs:GetLogEvents', Resource: 'arn:aws:logs:us-east-1:1:log-group:/aws/batch/x:*' })], { action: 'logs:GetLogEvents', resource: 'arn:aws:logs:us-east-1:1:log-group:/aws/batch/x:log-stream:a/b/c' }, 'Allow'],
  ['StringEquals on iam:PassedToService allows passing to Scheduler', [passToScheduler], { action: 'iam:PassRole', resource: 'arn:aws:iam::000000000000:role/scheduler', context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }, 'Allow'],
  ['StringEquals refuses passing the role to another service', [passToScheduler], { action: 'iam:PassRole', resource: 'arn:aws:iam::000000000000:role/scheduler', context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } }, 'ImplicitDeny'],
  ['a condition key the request lacks does not match (without IfExists)', [passToScheduler], { action: 'iam:PassRole', resource: 'arn:aws:iam::000000000000:role/scheduler' }, 'ImplicitDeny'],
  ['Null true matches an absent key', [doc({ Effect: 'Allow', Action: 'sqs:*', Resource: '*', Condition: { Null: { 'aws:TokenIssueTime': 'true' } } })], { action: 'sqs:SendMessage', resource: '*' }, 'Allow'],
  ['StringLike with a wildcard', [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { StringLike: { 's3:prefix': ['home/*'] } } })], { action: 's3:ListBucket', resource: '*', context: { 's3:prefix': 'home/ana' } }, 'Allow'],
  ['ForAllValues passes when every value is in the set', [doc({ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['a', 'b'] } } })], { action: 'dynamodb:GetItem', resource: '*', context: { 'dynamodb:Attributes': ['a'] } }, 'Allow'],
  ['ForAllValues fails when a value is outside the set', [doc({ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['a', 'b'] } } })], { action: 'dynamodb:GetItem', resource: '*', context: { 'dynamodb:Attributes': ['a', 'c'] } }, 'ImplicitDeny'],
];

describe('local IAM policy evaluation', () => {
  it.each(cases)('%s', (_name, policies, request, expected) => {
    expect(evaluate(policies, request)).toBe(expected);
  });

  it("refuses at load a condition operator it cannot evaluate, naming it, instead of ignoring it", () => {
    expect(() => doc({ Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { NumericLessThan: { 's3:max-keys': '10' } } })).toThrow(/NumericLessThan/);
  });

  it('refuses a statement with both Action and NotAction', () => {
    expect(() => doc({ Effect: 'Allow', Action: 's3:*', NotAction: 's3:DeleteBucket', Resource: '*' })).toThrow(/exactly one of Action and NotAction/);
  });

  it("matches no log stream with a log-stream resource built on a log group's Arn (which already ends in :*), and every stream with the Arn itself", () => {
    // Fn::GetAtt BatchronJobLogGroup.Arn = arn:aws:logs:us-east-1:000000000000:log-group:/aws/batch/batchron-dev:*
    const groupArn = 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/batch/batchron-dev:*';
    const stream = 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/batch/batchron-dev:log-stream:hello/default/0123abcd';
    const broken = doc({ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${groupArn}:log-stream:*` });
    const fixed = doc({ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: groupArn });
    expect(evaluate([broken], { action: 'logs:CreateLogStream', resource: stream })).toBe('ImplicitDeny');
    expect(evaluate([fixed], { action: 'logs:CreateLogStream', resource: stream })).toBe('Allow');
  });
});
