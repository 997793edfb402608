/** zod issues of `custom.batchron` in plain words: `<field path>: <what is wrong> (<what is allowed>)`. */
import type * as z from '../zod.ts';
import { BatchronConfigSchema } from './schema.ts';
import { closest } from './suggest.ts';

/** zod's per-parse error map: used only where the schema gave no message of its own. */
export function plainWords(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${article(issue.expected)})`;
      return `must be ${article(issue.expected)} (got ${typeName(issue.input)})`;
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must be at least ${String(issue.minimum)} characters`;
      return issue.inclusive ? `must be at least ${String(issue.minimum)}` : `must be more than ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters`;
      if (issue.origin === 'array') return `must list at most ${String(issue.maximum)} items`;
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'datetime') return 'must be an ISO-8601 date-time with a zone, e.g. "2026-01-31T02:00:00Z" or "2026-01-31T02:00:00+09:00"';
      return `has the wrong format (${issue.format})`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'has none of the allowed shapes';
    default:
      return undefined;
  }
}


/** The lines a zod issue of the config becomes, with the value found at its path in `raw`. */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string[] {
  const path = formatPath(['custom.batchron', ...issue.path]).replace(/^custom\.batchron\./, '');
  const where = issue.path.length === 0 ? 'custom.batchron' : path;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(issue.path);
    return issue.keys.map((key) => {
      const near = allowed ? closest(key, allowed, 3) : undefined;
      const hint = near ? `did you mean "${near}"? ` : '';
      return `${where}: unknown field "${key}" (${hint}${allowed ? `allowed: ${allowed.join(', ')}` : 'remove it'})`;
    });
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // A value of the right kind for exactly one of the shapes (a mapping where the other
    // shape is a string): report what is wrong inside that shape, at its own path.
    const near = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (near.length === 1 && near[0]!.length > 0) {
      return near[0]!.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, raw));
    }
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message ?? 'invalid name';
    return [`${where}: invalid name "${String(issue.path[issue.path.length - 1])}" (${inner})`];
  }
  const input = 'input' in issue ? issue.input : valueAt(raw, issue.path);
  const got = input === undefined || issue.code === 'invalid_type' || /\(got /.test(issue.message) ? '' : ` (got ${show(input)})`;
  return [`${where}: ${issue.message}${got}`];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** The field names a strict object at `path` accepts, found by walking the schema. */
function allowedKeys(path: readonly PropertyKey[]): string[] | undefined {
  let schema: unknown = BatchronConfigSchema;
  for (const segment of [...path, undefined]) {
    schema = unwrap(schema);
    const def = defOf(schema);
    if (segment === undefined) return def?.type === 'object' ? Object.keys(def.shape as object) : undefined;
    if (def?.type === 'object') schema = (def.shape as Record<string, unknown>)[String(segment)];
    else if (def?.type === 'record') schema = def.valueType;
    else if (def?.type === 'array') schema = def.element;
    else return undefined;
  }
  return undefined;
}

function unwrap(schema: unknown): unknown {
  let s = schema;
  for (let def = defOf(s); def && ['optional', 'default', 'nullable', 'prefault', 'pipe'].includes(def.type as string); def = defOf(s)) {
    s = def.type === 'pipe' ? def.in : def.innerType;
  }
  return s;
}

function defOf(schema: unknown): Record<string, unknown> | undefined {
  // zod 4 keeps a schema's definition at `_zod.def`; reading it is the documented way to introspect.
  const zod = (schema as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod;
  return zod?.def;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) v = isRecord(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}


function article(type: string): string {
  const names: Record<string, string> = { array: 'a list', object: 'a mapping', record: 'a mapping', string: 'a string', number: 'a number', boolean: 'true or false', int: 'a whole number' };
  return names[type] ?? type;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${show(v)}`;
}

export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
