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

export const PROJECT_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const COPIED = ['serverless.yml', 'serverless', 'functions', 'shared', 'web', 'jobs', 'package.json', 'tsconfig.json'];

/** A throwaway copy of the project; `serverlessYml` replaces serverless.yml when given. */
export function copyProject(options: { serverlessYml?: (original: string) => string } = {}): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'batchron-package-'));
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
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
}

/** The update-stack template `osls package` wrote in `dir`. */
export function readTemplate(dir: string): Template {
  return JSON.parse(readFileSync(join(dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}
