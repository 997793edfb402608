/**
 * package.json declares exactly what the code uses: every dependency is imported somewhere
 * (or named by a script, or a serverless.yml plugin), and every package the code imports is
 * declared. A dependency nobody imports still ships in every bundle's install and in every
 * audit; an undeclared one works only by the accident of being hoisted.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = process.cwd();
/** Folders holding code; root-level config files (vitest.config.ts, …) are read too. */
const CODE_DIRS = ['shared', 'functions', 'local', 'cli', 'test', 'bench', 'bin', 'jobs', 'web', 'scripts'];
const CODE_FILE = /\.(?:[cm]?[jt]sx?)$/;

function codeFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.') || name === 'dist') return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return codeFiles(path);
    return CODE_FILE.test(name) ? [path] : [];
  });
}

/** A bare specifier: `name`, `name/sub`, `@scope/name`, `@scope/name/sub`. */
const PACKAGE_NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(?:\/[\w./-]*)?$/;

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Bare package specifiers a file imports (static, dynamic, require, `import type`, vi.mock). */
function importsOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\.resolve\(\s*['"]([^'"]+)['"]/g,
    // A file of a package resolved through createRequire (axe-core's script for the browser tests).
    /\)\.resolve\(\s*['"]([^'"]+)['"]/g,
    /\bresolve\(\s*['"]((?:@[\w.-]+\/)?[\w.-]+)\/package\.json['"]/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const spec = match[1]!;
      if (!PACKAGE_NAME.test(spec)) continue; // relative, `#shared/…`, `node:…`, a template or a placeholder in a comment

      found.push(packageOf(spec));
    }
  }
  return found;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
};
const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);

function usage(): Map<string, string> {
  const used = new Map<string, string>();
  const rootFiles = readdirSync(ROOT).filter((name) => CODE_FILE.test(name)).map((name) => join(ROOT, name));
  for (const file of [...rootFiles, ...CODE_DIRS.flatMap((dir) => codeFiles(join(ROOT, dir)))]) {
    for (const name of importsOf(readFileSync(file, 'utf8'))) if (!used.has(name)) used.set(name, relative(ROOT, file));
  }
  // Command-line tools named by npm scripts (`tsx bench/x.ts`, `vitest run`, `osls package`).
  for (const script of Object.values(pkg.scripts ?? {})) {
    for (const word of script.split(/[\s&|;]+/)) if (declared.has(word) && !used.has(word)) used.set(word, 'package.json scripts');
  }
  // Binaries whose package name differs from the command (typescript ships `tsc`).
  if (/\btsc\b/.test(Object.values(pkg.scripts ?? {}).join(' '))) used.set('typescript', 'package.json scripts (tsc)');
  // serverless.yml plugins are loaded by the framework by package name.
  const yml = parseYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as { plugins?: string[] };
  for (const plugin of yml.plugins ?? []) if (PACKAGE_NAME.test(plugin)) used.set(packageOf(plugin), 'serverless.yml plugins');
  // Type packages serve the module they describe (`aws-lambda` → `@types/aws-lambda`; `@types/node` → node:*).
  for (const name of [...used.keys()]) used.set(`@types/${name.replace(/^@/, '').replace('/', '__')}`, `types of ${name}`);
  used.set('@types/node', 'node builtins');
  return used;
}

describe('package.json dependencies', () => {
  const used = usage();

  it('declares no dependency the code, scripts and serverless.yml never use', () => {
    // Prepare / Act
    const unused = [...declared].filter((name) => !used.has(name)).sort();
    // Assess
    expect(unused, `declared in package.json but never imported: ${unused.join(', ')}`).toEqual([]);
  });

  it('imports no package that package.json does not declare', () => {
    const builtins = new Set(builtinModules);
    const missing = [...used.entries()]
      .filter(([name, where]) => !where.startsWith('types of') && !where.startsWith('node builtins'))
      .filter(([name]) => !declared.has(name) && !builtins.has(name))
      // `aws-lambda` is a types-only module (@types/aws-lambda); `vitest/node` etc. are parts of declared packages.
      .filter(([name]) => !declared.has(`@types/${name}`))
      .map(([name, where]) => `${name} (${where})`)
      .sort();
    expect(missing, `imported but not declared: ${missing.join(', ')}`).toEqual([]);
  });
});
