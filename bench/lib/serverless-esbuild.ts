/**
 * What serverless-esbuild (1.57) would build for a serverless.yml, without running osls:
 * the function entries and the esbuild options it passes for each. Kept next to the
 * plugin's source it mirrors (node_modules/serverless-esbuild/dist/index.js `buildOptions`,
 * dist/bundle.js `bundle`, dist/helper.js `extractFunctionEntries`) so a benchmark measures
 * the bundles that are deployed, not bundles built some other way.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';

/** The parts of serverless.yml the mapping reads. */
export interface ServiceFile {
  provider?: { runtime?: string; environment?: Record<string, unknown>; memorySize?: number };
  custom?: { esbuild?: Record<string, unknown> };
  functions?: Record<string, { handler?: string; esbuildEntrypoint?: string; skipEsbuild?: boolean; environment?: Record<string, unknown>; memorySize?: number }>;
}

/** One function to bundle: its alias in serverless.yml and its source file, relative to the service directory. */
export interface FunctionEntry {
  name: string;
  entry: string;
}

// serverless-esbuild's own options, removed before the rest goes to esbuild (dist/bundle.js).
const PLUGIN_ONLY_OPTIONS = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
];

// The plugin's DEFAULT_BUILD_OPTIONS that reach esbuild or shape what does.
const PLUGIN_DEFAULTS = {
  bundle: true,
  target: 'node18',
  external: [] as string[],
  exclude: ['aws-sdk'],
  platform: 'node',
  outputFileExtension: '.js',
};

const DEFAULT_EXTENSIONS = ['.ts', '.js', '.jsx', '.tsx'];

/**
 * The esbuild options serverless-esbuild passes for `entry`. The plugin deep-merges its
 * defaults (bundle, platform 'node', target 'node18', exclude ['aws-sdk']) with the target
 * implied by provider.runtime (nodejs22.x -> node22) and then with custom.esbuild, arrays
 * replacing arrays (ramda mergeDeepRight: so `exclude: []` really empties the exclusion);
 * strips its own keys; appends `exclude` to `external` unless it is '*'; sets
 * outExtension when outputFileExtension is not '.js'; and builds each entry into
 * `<buildDir>/<dirname(entry)>`. `metafile` is added here for the benchmark; it does not
 * change the output.
 */
export function serverlessEsbuildOptions(service: ServiceFile, entry: string, outRoot: string, serviceDir: string): BuildOptions {
  const { plugins: pluginsFile, ...custom } = service.custom?.esbuild ?? {};
  if (typeof custom.config === 'string') {
    throw new Error('custom.esbuild.config files are not mirrored by this benchmark; extend bench/lib/serverless-esbuild.ts');
  }
  // serverless-esbuild requires `plugins` (a file of the service exporting an array) and hands the array to esbuild.
  const plugins = typeof pluginsFile === 'string' ? (createRequire(import.meta.url)(path.join(serviceDir, pluginsFile)) as Plugin[]) : undefined;
  const runtimeTarget = /^nodejs(\d+)\.x$/.exec(service.provider?.runtime ?? '')?.[1];
  const merged = mergeDeepRight(mergeDeepRight(PLUGIN_DEFAULTS, runtimeTarget ? { target: `node${runtimeTarget}` } : {}), custom);
  const exclude = stringArray(merged.exclude);
  const outputFileExtension = String(merged.outputFileExtension);
  const isEsm = merged.format === 'esm' || (merged.platform === 'neutral' && merged.format === undefined);
  if (isEsm && outputFileExtension === '.cjs') throw new Error('format "esm" cannot output .cjs (serverless-esbuild refuses it too)');
  if (!isEsm && outputFileExtension === '.mjs') throw new Error('only esm builds can output .mjs (serverless-esbuild refuses it too)');
  const passed = Object.fromEntries(Object.entries(merged).filter(([key]) => !PLUGIN_ONLY_OPTIONS.includes(key)));
  return {
    // custom.esbuild is free-form YAML handed to esbuild unchecked by the plugin; esbuild validates it.
    ...(passed as BuildOptions),
    external: [...stringArray(merged.external), ...(exclude.includes('*') ? [] : exclude)],
    ...(outputFileExtension !== '.js' ? { outExtension: { '.js': outputFileExtension } } : {}),
    entryPoints: [entry],
    outdir: path.join(outRoot, path.dirname(entry)),
    absWorkingDir: serviceDir,
    ...(plugins ? { plugins } : {}),
    metafile: true,
    write: true,
  };
}

/** The functions serverless-esbuild bundles: handler `dir/file.export` -> the first existing `dir/file{.ts,.js,.jsx,.tsx}`. */
export function functionEntries(service: ServiceFile, serviceDir: string): FunctionEntry[] {
  return Object.entries(service.functions ?? {})
    .filter(([, fn]) => !fn.skipEsbuild)
    .map(([name, fn]) => {
      const handler = fn.esbuildEntrypoint ?? fn.handler;
      if (!handler) throw new Error(`functions.${name}: no handler`);
      const base = handler.slice(0, handler.lastIndexOf(path.extname(handler)));
      const ext = DEFAULT_EXTENSIONS.find((e) => existsSync(path.join(serviceDir, base + e)));
      if (!ext) throw new Error(`functions.${name}: no source file for handler ${handler}`);
      return { name, entry: base + ext };
    });
}

function mergeDeepRight(left: Record<string, unknown>, right: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? mergeDeepRight(prev, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown): string[] {
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}
