/**
 * The config loader under generated input (issue 5, "Fuzzed inputs"): whatever sits under
 * custom.batchron, parseConfig either returns a config or throws a ConfigError whose every
 * line is `<field path>: <plain words>`, the path being one the user wrote (or the missing
 * field under a parent they wrote). Three sources of input:
 *
 *   - arbitrary JSON, as the whole block and in the places a schedule and a task go;
 *   - valid configs, generated from the schema's fields, which must be accepted;
 *   - a valid config with one field broken: a mutation chosen by walking the zod schema at
 *     that path (wrong type, out-of-range number, unknown key, missing field, bad enum,
 *     bad name) or one of the rules validate.ts (rules.ts) adds (bad expression, bad zone, cycle,
 *     unknown task or job definition, Fargate size, parameter pattern, ...). These must be
 *     rejected, with a line naming the broken field.
 *
 * Bugs found by the fuzzer are pinned as plain tests at the end of the file.
 */
import { dropUndefined } from '#shared/objects';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchronConfigSchema } from '#shared/config/schema';
import { parseConfig } from '#shared/config/validate';
import { ConfigError } from '#shared/errors';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

// ---------------------------------------------------------------------------------------
// What a good rejection looks like

type Outcome = { accepted: true } | { accepted: false; problems: string[] };

/** parseConfig's verdict; anything thrown other than a ConfigError propagates and fails the property. */
function verdict(raw: unknown): Outcome {
  try {
    parseConfig(raw);
    return { accepted: true };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const header = error.message.split('\n')[0] ?? '';
    expect(header, 'ConfigError header').toMatch(/^Invalid custom\.batchron \(\d+ problems?\):$/);
    return { accepted: false, problems: [...error.problems] };
  }
}

/** The field path a problem line starts with, if it is a path of `raw` (or a missing field under one). */
function linePath(raw: unknown, line: string): string | undefined {
  if (line.startsWith('custom.batchron: ')) return 'custom.batchron';
  return walkPath(raw, line, 0, true);
}

function walkPath(node: unknown, line: string, pos: number, atRoot: boolean): string | undefined {
  if (!atRoot && line.startsWith(': ', pos)) return line.slice(0, pos);
  if (Array.isArray(node)) {
    const index = /^\[(\d+)\]/.exec(line.slice(pos));
    if (index && Number(index[1]) < node.length) return walkPath(node[Number(index[1])], line, pos + index[0].length, false);
    return undefined;
  }
  if (!isObject(node)) return undefined;
  const sep = atRoot ? '' : '.';
  // Keys may contain "." themselves (schedule names do), so try every key that fits.
  for (const key of Object.keys(node)) {
    if (!line.startsWith(sep + key, pos)) continue;
    const found = walkPath(node[key], line, pos + sep.length + key.length, false);
    if (found) return found;
  }
  // A required field the user left out, named under the parent they wrote.
  const missing = new RegExp(`^${atRoot ? '' : '\\.'}([A-Za-z][A-Za-z0-9]*): `).exec(line.slice(pos));
  if (missing && !Object.hasOwn(node, missing[1]!)) return line.slice(0, pos + missing[0].length - 2);
  return undefined;
}

/** Why an explanation is not plain words for a person, if it is not. */
function unreadable(explanation: string): string | undefined {
  // What the user wrote is echoed in quotes; judge only the words around it.
  const words = explanation.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  if (!/[A-Za-z]{3,}/.test(words)) return 'no words';
  if (words.includes('[object Object]')) return '[object Object]';
  if (/\bundefined\b/.test(words)) return '"undefined"';
  if (/\bNaN\b/.test(words)) return 'NaN';
  if (/^\s*[[{]/.test(explanation) || /"(code|path|expected|origin)"\s*:/.test(explanation)) return 'raw zod JSON';
  if (/^Invalid input|expected \w+, received \w+/.test(words)) return "zod's default message";
  return undefined;
}

/** Checks every property of a rejection; returns the paths its lines name. */
function expectReadableRejection(raw: unknown, problems: string[]): string[] {
  expect(problems.length, 'a ConfigError lists at least one problem').toBeGreaterThan(0);
  return problems.map((line) => {
    expect(line, 'one problem per line').not.toContain('\n');
    const path = linePath(raw, line);
    expect(path, `"${line}" starts with a field path of the input`).toBeDefined();
    const explanation = line.slice(path!.length + 2);
    expect(unreadable(explanation), `"${line}" explains in plain words`).toBeUndefined();
    return path!;
  });
}

/** Whether a line's path is the expected field, inside it, or (below custom.batchron) one of its parents. */
function names(linePathValue: string, expected: string): boolean {
  return (
    linePathValue === expected ||
    linePathValue.startsWith(`${expected}.`) ||
    linePathValue.startsWith(`${expected}[`) ||
    (linePathValue !== 'custom.batchron' && (expected.startsWith(`${linePathValue}.`) || expected.startsWith(`${linePathValue}[`)))
  );
}

// ---------------------------------------------------------------------------------------
// Valid configs, from the schema's fields

const FARGATE: [number, number][] = [
  [0.25, 512],
  [0.25, 2048],
  [0.5, 1024],
  [0.5, 4096],
  [1, 2048],
  [2, 8192],
  [4, 30720],
  [16, 122880],
];
const ZONES = ['UTC', 'Asia/Tokyo', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'America/Argentina/Buenos_Aires'];
const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
const nameOf = (rest: string) => fc.tuple(alnum, fc.string({ unit: fc.constantFrom(...rest), maxLength: 7 })).map(([a, b]) => a + b);
const scheduleName = nameOf('abcxyz019_.-');
const taskName = nameOf('abcxyz019_-');
const paramName = fc.tuple(fc.constantFrom(...'abcXYZ_'), fc.string({ unit: fc.constantFrom(...'abc019_'), maxLength: 6 })).map(([a, b]) => a + b);
const text = fc.string({ maxLength: 12 });
const someText = fc.string({ minLength: 1, maxLength: 12 });

const expression = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 500 }), fc.constantFrom('minute', 'hour', 'day')).map(([n, u]) => `rate(${n} ${u}${n > 1 ? 's' : ''})`),
  fc
    .tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), fc.oneof(fc.constantFrom('* * ?', '? * MON-FRI', '? * SUN'), fc.integer({ min: 1, max: 28 }).map((d) => `${d} * ?`)))
    .map(([m, h, rest]) => `cron(${m} ${h} ${rest} *)`),
  fc.constantFrom('cron(*/5 * * * ? *)', 'cron(0 2 * * ? *)', 'rate(1 minute)'),
);
const atExpression = fc
  .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 23 }))
  .map(([mo, d, h]) => `at(2031-${pad(mo)}-${pad(d)}T${pad(h)}:30:00)`);

const retryOverride = fc.record(
  {
    attempts: fc.integer({ min: 1, max: 10 }),
    // initialSeconds <= 100 <= maxSeconds keeps every merge of levels valid.
    backoff: fc.record(
      {
        initialSeconds: fc.integer({ min: 0, max: 100 }),
        multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
        maxSeconds: fc.integer({ min: 100, max: 86_400 }),
        jitter: fc.constantFrom('full', 'equal', 'none'),
      },
      { requiredKeys: [] },
    ),
    retryOn: fc.record(
      {
        exitCodes: fc.oneof(fc.constant('any'), fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 3 })),
        statusReasons: fc.array(someText, { maxLength: 2 }),
        timeouts: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

const jobDefinition = fc
  .record(
    {
      image: someText,
      command: fc.array(text, { minLength: 1, maxLength: 3 }),
      environment: fc.dictionary(paramName, text, { maxKeys: 2 }),
      size: fc.constantFrom(...FARGATE),
      timeoutSeconds: fc.integer({ min: 60, max: 86_400 }),
    },
    { requiredKeys: ['image', 'command'] },
  )
  .map(({ size, ...def }): JsonObject => ({ ...def, ...(size ? { vcpus: size[0], memory: size[1] } : {}) }));

interface TaskContext {
  definitions: string[];
  params: string[];
}

/** A task; `dependsOn` is filled in by the schedule so the graph stays acyclic. */
const task = (ctx: TaskContext) =>
  fc
    .record(
      {
        definition: fc.oneof(fc.constantFrom(...ctx.definitions), fc.constant('shared-job-definition-of-another-stack'), fc.constant('arn:aws:batch:us-east-1:123456789012:job-definition/other')),
        queue: someText,
        command: fc.array(text, { minLength: 1, maxLength: 3 }),
        environment: fc.dictionary(paramName, ctx.params.length > 0 ? fc.oneof(text, fc.constantFrom(...ctx.params).map((p) => `\${param.${p}}`)) : text, { maxKeys: 3 }),
        parameters: fc.dictionary(paramName, text, { maxKeys: 2 }),
        size: fc.constantFrom(...FARGATE),
        timeoutSeconds: fc.integer({ min: 60, max: 86_400 }),
        retry: retryOverride,
      },
      { requiredKeys: ['definition'] },
    )
    .map(({ size, ...t }): JsonObject => ({ ...t, ...(size ? { vcpus: size[0], memory: size[1] } : {}) }));

const parameters = fc.dictionary(
  paramName,
  fc.oneof(
    fc.record({ description: text, required: fc.boolean() }, { requiredKeys: [] }),
    fc.record({ pattern: fc.constant('[a-z]*'), default: fc.string({ unit: fc.constantFrom(...'abcz'), maxLength: 6 }) }),
    fc.record({ pattern: fc.constant('(\\d{4}-\\d{2}-\\d{2})?'), default: fc.constantFrom('', '2026-01-31') }),
  ),
  { maxKeys: 2 },
);

const schedule = (definitions: string[]) =>
  fc
    .tuple(parameters, fc.boolean(), fc.uniqueArray(taskName, { minLength: 1, maxLength: 4 }), fc.boolean())
    .chain(([params, single, taskNames, isAt]) => {
      const ctx = { definitions, params: Object.keys(params) };
      const tasks: fc.Arbitrary<JsonObject> = fc
        .tuple(...taskNames.map(() => fc.tuple(task(ctx), fc.array(fc.nat(), { maxLength: 2 }))))
        .map((list) =>
          Object.fromEntries(
            list.map(([t, picks], i) => {
              // Only earlier tasks: a DAG by construction.
              const deps = i === 0 ? [] : [...new Set(picks.map((p) => taskNames[p % i]!))];
              return [taskNames[i]!, deps.length > 0 ? { ...t, dependsOn: deps } : t];
            }),
          ),
        );
      return fc.record(
        {
          expression: isAt ? atExpression : expression,
          description: fc.string({ maxLength: 40 }),
          timezone: fc.constantFrom(...ZONES),
          window: isAt ? fc.constant(undefined) : fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 1000 })),
          enabled: fc.boolean(),
          flexibleWindowMinutes: fc.integer({ min: 1, max: 1440 }),
          overlap: fc.constantFrom('allow', 'skip', 'queue-one', 'cancel-previous'),
          parameters: fc.constant(params),
          work: single ? task(ctx).map((job) => ({ job })) : tasks.map((t) => ({ tasks: t })),
          onFailure: fc.dictionary(taskName.map((n) => `cleanup-${n}`), task(ctx), { maxKeys: 2 }),
          retry: retryOverride,
          notify: fc.record(
            {
              onFailure: fc.boolean(),
              onRecovery: fc.boolean(),
              stuckAfterMinutes: fc.record({ queued: fc.integer({ min: 1, max: 1000 }), running: fc.integer({ min: 1, max: 1000 }) }, { requiredKeys: [] }),
            },
            { requiredKeys: [] },
          ),
          tags: fc.dictionary(nameOf('abc-_'), fc.string({ maxLength: 20 }), { maxKeys: 2 }),
        },
        { requiredKeys: ['expression', 'work', 'parameters'] },
      );
    })
    .map(({ work, window, ...s }): JsonObject => {
      const dates = window ? { startDate: isoDay(window[0]), endDate: isoDay(window[0] + window[1]) } : {};
      return dropUndefined({ ...s, ...work, ...dates } as Record<string, unknown>) as JsonObject;
    });

/** A valid custom.batchron block. */
const validConfig: fc.Arbitrary<JsonObject> = fc
  .uniqueArray(nameOf('abcxyz019_-'), { minLength: 1, maxLength: 3 })
  .chain((definitions) =>
    fc.record(
      {
        retentionDays: fc.integer({ min: 1, max: 3650 }),
        slackWebhookParameter: fc.string({ unit: fc.constantFrom(...'abc/_-.'), minLength: 1, maxLength: 20 }).map((s) => `/batchron/${s}`),
        sweep: fc.record(
          {
            expression: fc.constantFrom('rate(5 minutes)', 'rate(1 minute)', 'cron(*/10 * * * ? *)'),
            stuckAfterMinutes: fc.record({ queued: fc.integer({ min: 1, max: 100 }), submitted: fc.integer({ min: 1, max: 100 }) }, { requiredKeys: [] }),
          },
          { requiredKeys: [] },
        ),
        defaults: fc.record(
          {
            // Not '': see "an empty defaults.queue" below.
            queue: someText,
            timezone: fc.constantFrom(...ZONES),
            retry: retryOverride,
            overlap: fc.constantFrom('allow', 'skip'),
          },
          { requiredKeys: [] },
        ),
        jobDefinitions: fc.tuple(...definitions.map(() => jobDefinition)).map((defs) => Object.fromEntries(definitions.map((k, i) => [k, defs[i]!]))),
        schedules: fc.dictionary(scheduleName, schedule(definitions), { minKeys: 1, maxKeys: 3 }),
      },
      { requiredKeys: ['jobDefinitions', 'schedules'] },
    ),
  )
  .map((c) => c as JsonObject);

// ---------------------------------------------------------------------------------------
// One broken field

interface Mutation {
  /** What was done, for the counterexample. */
  kind: string;
  /** The field a problem line must name. */
  path: string;
  apply(config: JsonObject): void;
}

type Segment = string | number;

/** The zod schema node at `path` of BatchronConfigSchema, unwrapped from optional/default. */
function schemaAt(path: readonly Segment[]): ZodNode | undefined {
  let node: ZodNode | undefined = unwrap(BatchronConfigSchema as unknown as ZodNode);
  for (const segment of path) {
    if (!node) return undefined;
    const def: ZodDef = node._zod.def;
    if (def.type === 'object') node = def.shape?.[String(segment)];
    else if (def.type === 'record') node = def.valueType;
    else if (def.type === 'array') node = def.element;
    else return undefined;
    node = node && unwrap(node);
  }
  return node;
}

// zod 4 keeps each schema's definition at `_zod.def`; reading it is its documented introspection.
interface ZodDef {
  type: string;
  innerType?: ZodNode;
  shape?: Record<string, ZodNode>;
  valueType?: ZodNode;
  keyType?: ZodNode;
  element?: ZodNode;
  entries?: Record<string, string>;
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string; minimum?: number } } }[];
}
interface ZodNode {
  _zod: { def: ZodDef; optin?: string };
}

function unwrap(node: ZodNode): ZodNode {
  let n = node;
  while (['optional', 'default', 'prefault', 'nullable'].includes(n._zod.def.type) && n._zod.def.innerType) n = n._zod.def.innerType;
  return n;
}

/** Every path of a JSON value below its root. */
function pathsOf(value: Json, prefix: Segment[] = []): Segment[][] {
  const out: Segment[][] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push([...prefix, i], ...pathsOf(v, [...prefix, i])));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) out.push([...prefix, k], ...pathsOf(v, [...prefix, k]));
  return out;
}

function show(path: readonly Segment[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function parentOf(config: JsonObject, path: readonly Segment[]): JsonObject | Json[] {
  let node: Json = config;
  for (const p of path.slice(0, -1)) node = (node as Record<Segment, Json>)[p]!;
  return node as JsonObject | Json[];
}

function setAt(path: readonly Segment[], value: Json | undefined): (config: JsonObject) => void {
  return (config) => {
    const parent = parentOf(config, path) as Record<Segment, Json>;
    const last = path[path.length - 1]!;
    if (value === undefined) delete parent[last];
    else parent[last] = value;
  };
}

function typeOf(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** The mutations the schema allows at `path` of `config`: each makes the config invalid. */
function schemaMutations(config: JsonObject, path: Segment[]): Mutation[] {
  const value = path.reduce<Json>((v, p) => (v as Record<Segment, Json>)[p]!, config);
  const node = schemaAt(path);
  const at = show(path);
  const out: Mutation[] = [];
  // A different JSON type. A string is never swapped for a list or back: `exitCodes` takes either.
  const wrong: Json[] = [42.5, true, null, { colour: 'blue' }, 'wrong', [1]];
  for (const w of wrong) {
    const t = typeOf(w);
    if (t === typeOf(value) || (typeOf(value) === 'string' && t === 'array') || (typeOf(value) === 'array' && t === 'string')) continue;
    out.push({ kind: `wrong type ${JSON.stringify(w)}`, path: at, apply: setAt(path, structuredClone(w)) });
  }
  if (!node) return out;
  const def = node._zod.def;
  if (def.type === 'object' && isObject(value)) {
    const fields = Object.keys(def.shape ?? {});
    const typo = fields.map((f) => `${f}s`).find((f) => !fields.includes(f)) ?? 'colour';
    for (const key of [typo, 'colour']) {
      out.push({ kind: `unknown key ${key}`, path: at, apply: (c) => void ((parentOf(c, [...path, key]) as JsonObject)[key] = 1) });
    }
  }
  if (def.type === 'number') {
    for (const check of def.checks ?? []) {
      const { check: kind, value: bound, inclusive, format } = check._zod.def;
      if (kind === 'greater_than' && bound !== undefined) out.push({ kind: 'below minimum', path: at, apply: setAt(path, inclusive ? bound - 1 : bound) });
      if (kind === 'less_than' && bound !== undefined) out.push({ kind: 'above maximum', path: at, apply: setAt(path, inclusive ? bound + 1 : bound) });
      if (kind === 'number_format' && format === 'safeint' && typeof value === 'number') out.push({ kind: 'not whole', path: at, apply: setAt(path, value + 0.5) });
    }
  }
  if (def.type === 'enum') out.push({ kind: 'not in enum', path: at, apply: setAt(path, 'sometimes') });
  if (def.type === 'string' && (def.checks ?? []).some((c) => c._zod.def.check === 'min_length')) out.push({ kind: 'empty string', path: at, apply: setAt(path, '') });
  // A required field left out (the schema's parent is a strict object and the field is not optional).
  const parentNode = schemaAt(path.slice(0, -1));
  const field = parentNode?._zod.def.type === 'object' ? parentNode._zod.def.shape?.[String(path[path.length - 1])] : undefined;
  if (field && !['optional', 'default', 'prefault'].includes(field._zod.def.type) && field._zod.optin !== 'optional') out.push({ kind: 'missing required field', path: at, apply: setAt(path, undefined) });
  // A record whose keys are names (schedules, jobDefinitions): an invalid name.
  if (def.type === 'record' && isObject(value) && def.keyType?._zod.def.checks?.length) {
    const first = Object.keys(value)[0];
    if (first !== undefined) {
      for (const bad of ['-starts-with-dash', 'has space', 'x'.repeat(65)]) {
        out.push({
          kind: `invalid name ${bad}`,
          path: `${at}.${bad}`,
          apply: (c) => {
            const rec = path.reduce<Json>((v, p) => (v as Record<Segment, Json>)[p]!, c) as JsonObject;
            rec[bad] = rec[first]!;
            delete rec[first];
          },
        });
      }
    }
  }
  return out;
}

/** Mutations for the rules validate.ts (rules.ts) adds to the schema, on the schedules of `config`. */
function ruleMutations(config: JsonObject): Mutation[] {
  const out: Mutation[] = [];
  const schedules = config.schedules as Record<string, JsonObject>;
  const definitions = Object.keys(config.jobDefinitions as JsonObject);
  out.push({ kind: 'bad sweep expression', path: 'sweep.expression', apply: (c) => void ((c.sweep = { ...(c.sweep as JsonObject) }), ((c.sweep as JsonObject).expression = 'at(2031-01-01T00:00:00)')) });
  out.push({ kind: 'bad default zone', path: 'defaults.timezone', apply: (c) => void (c.defaults = { ...(c.defaults as JsonObject), timezone: 'Mars/Olympus_Mons' }) });
  out.push({ kind: 'slack parameter without /', path: 'slackWebhookParameter', apply: (c) => void (c.slackWebhookParameter = 'batchron-slack') });
  out.push({ kind: 'bad fargate size', path: `jobDefinitions.${definitions[0]!}`, apply: (c) => void Object.assign((c.jobDefinitions as Record<string, JsonObject>)[definitions[0]!]!, { vcpus: 0.25, memory: 8192 }) });
  for (const [name, s] of Object.entries(schedules)) {
    const at = `schedules.${name}`;
    const sched = (c: JsonObject) => (c.schedules as Record<string, JsonObject>)[name]!;
    for (const bad of ['cron(0 2 * * *)', 'rate(5 minute)', 'rate(0 minutes)', 'every day at noon', 'cron(61 * * * ? *)', 'at(2031-02-30T00:00:00)', '']) {
      out.push({ kind: `bad expression ${bad}`, path: `${at}.expression`, apply: (c) => void (sched(c).expression = bad) });
    }
    for (const zone of ['Asia/Tokio', 'UTC+25', 'Mars/Olympus_Mons']) out.push({ kind: `bad zone ${zone}`, path: `${at}.timezone`, apply: (c) => void (sched(c).timezone = zone) });
    out.push({ kind: 'job and tasks', path: at, apply: (c) => void (sched(c).job ? (sched(c).tasks = { a: { definition: definitions[0]! } }) : (sched(c).job = { definition: definitions[0]! })) });
    out.push({ kind: 'neither job nor tasks', path: at, apply: (c) => void (delete sched(c).job, delete sched(c).tasks) });
    out.push({ kind: 'end before start', path: `${at}.endDate`, apply: (c) => void (c.schedules = { ...(c.schedules as JsonObject), [name]: { ...sched(c), expression: 'rate(1 hour)', startDate: '2031-01-02T00:00:00Z', endDate: '2031-01-01T00:00:00Z' } }) });
    out.push({ kind: 'reserved tag key', path: `${at}.tags.aws:owner`, apply: (c) => void (sched(c).tags = { ...(sched(c).tags as JsonObject), 'aws:owner': 'me' }) });
    out.push({ kind: 'backoff max below initial', path: `${at}.retry.backoff.maxSeconds`, apply: (c) => void (sched(c).retry = { backoff: { initialSeconds: 600, maxSeconds: 60 } }) });
    out.push({ kind: 'bad parameter pattern', path: `${at}.parameters.p`, apply: (c) => void (sched(c).parameters = { ...(sched(c).parameters as JsonObject), p: { pattern: '([a-z]' } }) });
    out.push({ kind: 'default not matching', path: `${at}.parameters.p.default`, apply: (c) => void (sched(c).parameters = { ...(sched(c).parameters as JsonObject), p: { pattern: '[a-z]+', default: 'ABC' } }) });
    const longName = 's'.repeat(64);
    const longTask = 't'.repeat(30);
    out.push({
      kind: 'names over the Batch job-name budget',
      path: `schedules.${longName}.tasks.${longTask}`,
      apply: (c) => void ((c.schedules as JsonObject)[longName] = { expression: 'rate(1 hour)', tasks: { [longTask]: { definition: definitions[0]! } } }),
    });
    const taskEntries: [string, string][] = s.job ? [['job', `${at}.job`]] : Object.keys((s.tasks as JsonObject) ?? {}).map((t) => [t, `${at}.tasks.${t}`]);
    for (const [t, tPath] of taskEntries) {
      const taskOf = (c: JsonObject) => (s.job ? sched(c).job : (sched(c).tasks as JsonObject)[t]) as JsonObject;
      const declared = definitions.find((d) => d.length >= 4);
      if (declared) out.push({ kind: 'job definition typo', path: `${tPath}.definition`, apply: (c) => void (taskOf(c).definition = `${declared}x`) });
      out.push({ kind: 'pinned revision', path: `${tPath}.definition`, apply: (c) => void (taskOf(c).definition = `${definitions[0]!}:3`) });
      out.push({ kind: 'undeclared parameter', path: `${tPath}.environment.X`, apply: (c) => void (taskOf(c).environment = { X: '${param.undeclared_one}' }) });
      out.push({ kind: 'bad fargate pair', path: tPath, apply: (c) => void Object.assign(taskOf(c), { definition: definitions[0]!, vcpus: 0.5, memory: 512 }) });
      out.push({ kind: 'unknown dependency', path: `${tPath}.dependsOn`, apply: (c) => void (taskOf(c).dependsOn = ['no-such-task-here']) });
      if (!s.job) out.push({ kind: 'self dependency', path: `${at}.tasks`, apply: (c) => void (taskOf(c).dependsOn = [t]) });
    }
    const names = s.tasks ? Object.keys(s.tasks as JsonObject) : [];
    if (names.length >= 2) {
      out.push({
        kind: 'two-task cycle',
        path: `${at}.tasks`,
        apply: (c) => {
          const tasks = sched(c).tasks as Record<string, JsonObject>;
          tasks[names[0]!]!.dependsOn = [names[names.length - 1]!];
          tasks[names[names.length - 1]!]!.dependsOn = [names[0]!];
        },
      });
    }
  }
  return out;
}

/** A valid config, one mutation chosen by index (a field first, then what to do to it), and the mutated copy. */
const mutated = fc.tuple(validConfig, fc.nat(), fc.nat(), fc.boolean()).map(([config, pickPath, pick, bySchema]) => {
  const paths = pathsOf(config);
  const candidates = bySchema ? schemaMutations(config, paths[pickPath % paths.length]!) : ruleMutations(config);
  const mutation = candidates[pick % candidates.length]!;
  const broken = structuredClone(config);
  mutation.apply(broken);
  return { config, mutation, broken: JSON.parse(JSON.stringify(broken)) as JsonObject };
});

// ---------------------------------------------------------------------------------------

describe('parseConfig under fuzzed input', () => {
  it('accepts every config generated from the schema', () => {
    fc.assert(
      fc.property(validConfig, (config) => {
        const result = verdict(config);
        expect(result.accepted ? [] : result.problems).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('answers arbitrary JSON as the whole block with a ConfigError of readable lines, or accepts it', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (raw) => {
        const result = verdict(raw);
        if (!result.accepted) expectReadableRejection(raw, result.problems);
      }),
      { numRuns: 1500 },
    );
  });

  it('answers arbitrary JSON in the place of a schedule, a task and a job definition the same way', () => {
    const placed = fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('schedule', 'task', 'tasks', 'jobDefinition', 'retry', 'defaults')).map(([value, where]) => {
      const job = { definition: 'hello' };
      const base = { jobDefinitions: { hello: { image: 'alpine', command: ['sh'] } }, schedules: { s: { expression: 'rate(1 hour)', job } as Record<string, unknown> } } as Record<string, unknown>;
      const s = (base.schedules as Record<string, Record<string, unknown>>).s!;
      if (where === 'schedule') (base.schedules as Record<string, unknown>).s = value;
      if (where === 'task') s.job = value;
      if (where === 'tasks') (delete s.job, (s.tasks = value));
      if (where === 'jobDefinition') (base.jobDefinitions as Record<string, unknown>).hello = value;
      if (where === 'retry') s.retry = value;
      if (where === 'defaults') base.defaults = value;
      return JSON.parse(JSON.stringify(base)) as unknown;
    });
    fc.assert(
      fc.property(placed, (raw) => {
        const result = verdict(raw);
        if (!result.accepted) expectReadableRejection(raw, result.problems);
      }),
      { numRuns: 1500 },
    );
  });

  it('rejects a valid config with one field broken, naming that field', () => {
    fc.assert(
      fc.property(mutated, ({ mutation, broken }) => {
        const result = verdict(broken);
        expect(result.accepted, `${mutation.kind} at ${mutation.path} is rejected`).toBe(false);
        if (result.accepted) return;
        const paths = expectReadableRejection(broken, result.problems);
        expect(
          paths.some((p) => names(p, mutation.path)),
          `${mutation.kind}: a line names ${mutation.path}; got\n${result.problems.join('\n')}`,
        ).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseConfig bugs found by fuzzing', () => {
  const base = () => ({
    jobDefinitions: { hello: { image: 'alpine', command: ['sh'] } },
    schedules: { s: { expression: 'rate(1 hour)', job: { definition: 'hello' } } } as Record<string, unknown>,
  });

  it('reports a retry policy problem once, where it was written', () => {
    // Prepare: the schedule's backoff is wrong; its task only sets attempts.
    const raw = base();
    raw.schedules.s = {
      expression: 'rate(1 hour)',
      retry: { backoff: { initialSeconds: 600, maxSeconds: 60 } },
      tasks: { a: { definition: 'hello', retry: { attempts: 2 } } },
    };
    // Act
    const result = verdict(raw);
    // Assess
    expect(result.accepted ? [] : result.problems).toEqual(['schedules.s.retry.backoff.maxSeconds: must be at least initialSeconds (600) (got 60)']);
  });

  it('answers a list given as the whole block with its type, not with a path inside the list', () => {
    // Prepare: found by the arbitrary-JSON property; the __proto__ guard once walked into lists.
    const raw = JSON.parse('[{"__proto__":0}]') as unknown;
    // Act
    const result = verdict(raw);
    // Assess
    expect(result.accepted ? [] : result.problems).toEqual(['custom.batchron: must be an object (got a list)']);
  });

  it('rejects a schedule named __proto__ instead of dropping it silently', () => {
    // Prepare: YAML and JSON.parse both make "__proto__" an own key; the name breaks NameSchema.
    const raw = JSON.parse('{"jobDefinitions":{"hello":{"image":"a","command":["x"]}},"schedules":{"__proto__":{"expression":"rate(1 hour)","job":{"definition":"hello"}}}}') as unknown;
    // Act (it was once accepted with no schedules at all)
    const result = verdict(raw);
    // Assess
    expect(result.accepted ? [] : result.problems).toEqual([expect.stringMatching(/^schedules\.__proto__: /)]);
  });

  it('reports an empty defaults.queue as a ConfigError, not a ZodError from normalization', () => {
    // Prepare: the schema once allowed '' here, and normalization then built a task with jobQueue ''.
    const raw = { ...base(), defaults: { queue: '' } };
    // Act (a ZodError once escaped here)
    const result = verdict(raw);
    // Assess
    expect(result.accepted ? [] : result.problems).toEqual([expect.stringMatching(/^defaults\.queue: /)]);
  });
});

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function isoDay(offsetDays: number): string {
  return new Date(Date.UTC(2031, 0, 1) + offsetDays * 86_400_000).toISOString().replace('.000', '');
}
