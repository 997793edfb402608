/**
 * CI: packages the project offline (`osls package`) twice, as serverless.yml is and with
 * every job-definition field and platform in use (EVERY_FIELD), and runs cfn-lint on both
 * templates. Fails on any error or warning whose rule is not in .ci/cfn-lint-allowlist.json
 * (each entry says why it is accepted); prints what it found either way.
 *
 *   npx tsx .ci/cfn-lint.ts
 *
 * Network values are realistic-looking ids so cfn-lint checks their format; the deploy
 * refuses the placeholders anyway (serverless/batchron-plugin.mjs).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { copyProject, EVERY_FIELD, osls, PROJECT_DIR, withBatchron } from '../test/integration/package.helpers.ts';

const run = promisify(execFile);

interface Finding {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Location: { Path: (string | number)[] };
}

const allowlist = JSON.parse(readFileSync(join(PROJECT_DIR, '.ci', 'cfn-lint-allowlist.json'), 'utf8')) as { rule: string; reason: string }[];
const allowed = new Set(allowlist.filter((a) => a.reason.trim().length > 0).map((a) => a.rule));

process.env.BATCHRON_SUBNETS = 'subnet-0123456789abcdef0,subnet-0fedcba9876543210';
process.env.BATCHRON_SECURITY_GROUP_IDS = 'sg-0123456789abcdef0';

const variants = [
  { name: 'serverless.yml', copy: copyProject() },
  { name: 'serverless.yml with every job-definition field', copy: copyProject({ serverlessYml: withBatchron(EVERY_FIELD) }) },
];
let failed = false;
try {
  const packaged = await Promise.all(variants.map((v) => osls(v.copy.dir, ['package'])));
  for (const [i, v] of variants.entries()) {
    const out = packaged[i]!;
    if (out.code !== 0) throw new Error(`osls package (${v.name}) failed:\n${out.stdout}\n${out.stderr}`);
    const template = join(v.copy.dir, '.serverless', 'cloudformation-template-update-stack.json');
    let stdout = '';
    try {
      ({ stdout } = await run('cfn-lint', ['--format', 'json', template], { maxBuffer: 64 * 1024 * 1024 }));
    } catch (error) {
      // cfn-lint exits non-zero when it finds anything; its findings are on stdout all the same.
      const e = error as { stdout?: string; code?: number | string };
      if (e.code === 'ENOENT') throw new Error('cfn-lint is not installed (python3 -m pip install cfn-lint)');
      stdout = e.stdout ?? '';
    }
    const findings = JSON.parse(stdout || '[]') as Finding[];
    const blocking = findings.filter((f) => !allowed.has(f.Rule.Id));
    const accepted = findings.length - blocking.length;
    console.log(`cfn-lint ${v.name}: ${findings.length} finding(s), ${accepted} allowlisted, ${blocking.length} blocking`);
    for (const f of blocking) console.log(`  ${f.Level} ${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`);
    if (blocking.length > 0) failed = true;
  }
} finally {
  for (const v of variants) v.copy.remove();
}
if (failed) {
  console.error('cfn-lint: fix the findings above, or add the rule to .ci/cfn-lint-allowlist.json with the reason it is acceptable');
  process.exit(1);
}
