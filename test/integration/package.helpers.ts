/**
 * Runs `osls package` on a temporary copy of the project: only what packaging reads is
 * copied (serverless.yml, the plugin, the sources esbuild bundles, package.json and
 * tsconfig.json), node_modules is a symlink, so a run takes seconds and never touches
 * the working tree's `.serverless/`.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

export const PROJECT_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const COPIED = ['serverless.yml', 'serverless', 'functions', 'shared', 'web', 'jobs', 'package.json', 'tsconfig.json'];

/**
 * A throwaway copy of the project; `serverlessYml` replaces serverless.yml when given; `into`
 * is an empty directory to copy into (a new temporary one otherwise).
 */
export function copyProject(options: { serverlessYml?: (original: string) => string; into?: string } = {}): { dir: string; remove: () => void } {
  const dir = options.into ?? mkdtempSync(join(tmpdir(), 'batchron-package-'));
  for (const entry of COPIED) {
    if (existsSync(join(PROJECT_DIR, entry))) cpSync(join(PROJECT_DIR, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(PROJECT_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
  if (options.serverlessYml) {
    writeFileSync(join(dir, 'serverless.yml'), options.serverlessYml(readFileSync(join(PROJECT_DIR, 'serverless.yml'), 'utf8')));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `osls <args>` in `dir` (offline: no credentials, no telemetry). */
export function osls(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = join(PROJECT_DIR, 'node_modules', 'osls', 'bin', 'serverless.js');
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: dir,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A CloudFormation template as osls writes it. */
export interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string | string[] }>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

/**
 * serverless.yml with `edit` applied to its `custom.batchron` (as a plain object), keeping
 * everything else, YAML tags included, as written.
 */
export function withBatchron(edit: (batchron: Record<string, any>) => void): (yml: string) => string {
  return (yml) => {
    const doc = parseDocument(yml);
    const batchron = (doc.getIn(['custom', 'batchron']) as { toJSON(): Record<string, any> }).toJSON();
    edit(batchron);
    doc.setIn(['custom', 'batchron'], doc.createNode(batchron));
    return doc.toString();
  };
}

/** The update-stack template `osls package` wrote in `dir`. */
export function readTemplate(dir: string): Template {
  return JSON.parse(readFileSync(join(dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

/** Account and Region the template's ARNs are resolved with in tests. */
export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-east-1';

/**
 * Resolves the intrinsics a packaged template uses in IAM (Ref, Fn::GetAtt, Fn::Sub) to
 * concrete ARNs, as CloudFormation would: notably a log group's `Arn` attribute ends in
 * `:*`, and a role's is `arn:aws:iam::<account>:role/<name>`.
 */
export function resolveCfn(template: Template, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveCfn(template, v));
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [fn, arg] = entries[0]!;
    if (fn === 'Ref') return ref(template, String(arg));
    if (fn === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
      return getAtt(template, id!, attr!);
    }
    if (fn === 'Fn::Sub') {
      const text = Array.isArray(arg) ? String(arg[0]) : String(arg);
      return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const dot = name.indexOf('.');
        return String(dot > 0 && !name.startsWith('AWS::') ? getAtt(template, name.slice(0, dot), name.slice(dot + 1)) : ref(template, name));
      });
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveCfn(template, v)]));
}

function ref(template: Template, name: string): unknown {
  const pseudo: Record<string, string> = { 'AWS::Region': TEST_REGION, 'AWS::AccountId': TEST_ACCOUNT, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
  if (name in pseudo) return pseudo[name];
  const r = template.Resources[name];
  if (!r) throw new Error(`Ref to unknown resource ${name}`);
  const p = r.Properties;
  switch (r.Type) {
    case 'AWS::IAM::Role':
      return `batchron-dev-${name}`;
    case 'AWS::Logs::LogGroup':
      return p.LogGroupName;
    case 'AWS::Batch::JobQueue':
      return `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-queue/${String(p.JobQueueName)}`;
    case 'AWS::Batch::ComputeEnvironment':
      return `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:compute-environment/${String(p.ComputeEnvironmentName)}`;
    default:
      return resolveCfn(template, p.TableName ?? p.Name ?? name);
  }
}

function getAtt(template: Template, id: string, attr: string): unknown {
  const r = template.Resources[id];
  if (!r) throw new Error(`Fn::GetAtt of unknown resource ${id}`);
  const base = `${TEST_REGION}:${TEST_ACCOUNT}`;
  switch (r.Type) {
    case 'AWS::Logs::LogGroup':
      // CloudFormation's documented value: the group's ARN followed by ":*".
      return `arn:aws:logs:${base}:log-group:${String(r.Properties.LogGroupName)}:*`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${TEST_ACCOUNT}:role/${String(ref(template, id))}`;
    case 'AWS::IAM::InstanceProfile':
      return `arn:aws:iam::${TEST_ACCOUNT}:instance-profile/batchron-dev-${id}`;
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${base}:table/${String(r.Properties.TableName)}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${base}:function:${String(r.Properties.FunctionName)}`;
    case 'AWS::ECR::Repository':
      return `arn:aws:ecr:${base}:repository/${String(r.Properties.RepositoryName)}`;
    default:
      throw new Error(`Fn::GetAtt ${id}.${attr} (${r.Type}) is not resolved by the test helper`);
  }
}

/** An IAM policy statement with its intrinsics resolved. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}

/** IAM's wildcard match (`*` any run of characters, `?` one), case-sensitive as ARNs are. */
function wildcard(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(text);
}

/**
 * Whether identity statements allow `action` on `resource` (Allow matched, no Deny matched;
 * conditions are not evaluated: the template's function roles have none on these actions).
 */
export function allows(statements: Statement[], action: string, resource: string): boolean {
  const matches = (s: Statement) =>
    ([] as string[]).concat(s.Action ?? []).some((a) => wildcard(a.toLowerCase(), action.toLowerCase())) &&
    ([] as string[]).concat(s.Resource ?? []).some((r) => wildcard(r, resource));
  return statements.some((s) => s.Effect === 'Allow' && matches(s)) && !statements.some((s) => s.Effect === 'Deny' && matches(s));
}

/** Every statement of a role's inline policies and of the AWS::IAM::Policy resources attached to it, resolved. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const role = template.Resources[roleId];
  if (!role) throw new Error(`no role ${roleId}`);
  const inline = ((role.Properties.Policies ?? []) as { PolicyDocument: { Statement: unknown[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
  const attached = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as unknown[]).some((x) => JSON.stringify(x) === JSON.stringify({ Ref: roleId })))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: unknown[] }).Statement);
  return resolveCfn(template, [...inline, ...attached]) as Statement[];
}

/** The logical ID of the role a function runs with. */
export function functionRoleId(template: Template, functionLogicalId: string): string {
  const role = template.Resources[functionLogicalId]!.Properties.Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

const IMAGE = '${param:jobImage}';

/**
 * An edit of `custom.batchron` that uses every job-definition field and platform, and
 * external queues and job definitions by name and ARN (defaults.queue included): the
 * package test and CI's cfn-lint step package the project with it.
 */
export const EVERY_FIELD = (batchron: Record<string, any>): void => {
  // Tasks that name no queue submit to an existing queue of another team.
  batchron.defaults = { ...batchron.defaults, queue: 'shared-queue' };
  batchron.compute = { ec2Spot: { instanceTypes: ['g5.xlarge', 'g4dn.xlarge'], allocationStrategy: 'SPOT_CAPACITY_OPTIMIZED', maxvCpus: 32 } };
  Object.assign(batchron.jobDefinitions, {
    'gpu-train': { image: IMAGE, command: ['python', 'train.py'], platform: 'ec2-spot', gpus: 1, vcpus: 4, memory: 16384 },
    'ec2-batch': { image: IMAGE, command: ['sh', 'jobs/hello.sh'], platform: 'ec2', vcpus: 2, memory: 4096 },
    'spot-report': { image: IMAGE, command: ['sh', 'jobs/report.sh'], platform: 'fargate-spot' },
    arm: { image: IMAGE, command: ['sh', 'jobs/hello.sh'], architecture: 'arm64', ephemeralStorageGiB: 50 },
    'with-secrets': {
      image: IMAGE,
      command: ['sh', 'jobs/hello.sh'],
      secrets: { DB_PASSWORD: { ssm: '/batchron/dev/db-password' }, API_TOKEN: { secretsManager: 'batchron/dev/api', key: 'token' } },
    },
    'with-role': {
      image: IMAGE,
      command: ['sh', 'jobs/hello.sh'],
      role: { statements: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports-bucket/*' }] },
    },
    'existing-role': { image: IMAGE, command: ['sh', 'jobs/hello.sh'], role: `arn:aws:iam::${TEST_ACCOUNT}:role/existing-job-role` },
  });
  Object.assign(batchron.schedules, {
    train: { expression: 'rate(1 day)', job: { definition: 'gpu-train' } },
    external: {
      expression: 'rate(1 day)',
      tasks: {
        a: { definition: 'shared-etl' },
        b: {
          definition: `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-definition/other-team`,
          queue: `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-queue/other-queue`,
          dependsOn: ['a'],
        },
        c: { definition: 'spot-report', queue: 'big-queue', dependsOn: ['a'] },
      },
    },
    secrets: { expression: 'rate(1 day)', job: { definition: 'with-secrets' } },
    // Slack routes: the team's webhook for everything, the on-call one for deadlines, a local variable for failures.
    routed: {
      expression: 'cron(0 2 * * ? *)',
      job: { definition: 'arm' },
      deadline: { at: '06:00' },
      notify: { slack: { webhook: { ssm: '/batchron/dev/team-slack' }, deadline: { ssm: 'batchron/dev/oncall-slack' }, failure: { env: 'TEAM_FAILURES' } } },
    },
  });
};

