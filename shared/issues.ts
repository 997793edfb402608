/**
 * Problems with input in plain words, one wording for the whole product: an API 400 body
 * (`shared/api/http.ts`), `custom.batchron` (`shared/config/validate.ts`) and the CLI say the
 * same thing about the same issue. An Issue names the field (`body.parameters.day`,
 * `schedules.nightly.expression`), says what was wrong and, where it can, what is allowed
 * and what was given: `must be a string (got number 5)`.
 *
 * zod's issues become Issues here: `plainWords` is the per-parse error map (a schema's own
 * message wins), and `describeZodIssue` adds what a message alone cannot know: the allowed
 * fields of the object at the issue's path (with a "did you mean"), the branch of a union the
 * value nearly matched, and the value given.
 */
import type * as z from './zod.ts';
import { closest } from './config/suggest.ts';

/** One problem with an input: where (`body.from`, `schedules.x.expression`) and what. */
export interface Issue {
  path: string;
  message: string;
}

/** An Issue at `path`. */
export function issue(path: string, message: string): Issue {
  return { path, message };
}

/** The one-line form configs and the CLI print: `<path>: <message>`. */
export function issueLine(i: Issue): string {
  return `${i.path}: ${i.message}`;
}

/** Issues without repeats (the same problem found on two routes through a config). */
export function uniqueIssues(issues: readonly Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const line = issueLine(i);
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
}

/** zod's per-parse error map: used only where the schema gave no message of its own. */
export function plainWords(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${article(issue.expected)})`;
      return `must be ${article(issue.expected)} (got ${typeName(issue.input)})`;
    case 'too_small': {
      const n = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') return `must list at least ${n} item${n === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return n <= 1 ? 'must not be empty' : `must be at least ${n} characters`;
      return issue.inclusive ? `must be at least ${n}` : `must be more than ${n}`;
    }
    case 'too_big': {
      const n = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${n} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must list at most ${n} items`;
      return issue.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'datetime') return 'must be an ISO-8601 date-time with a zone, e.g. "2026-01-31T02:00:00Z" or "2026-01-31T02:00:00+09:00"';
      if (issue.format === 'regex') return `must match ${String((issue as { pattern?: unknown }).pattern ?? 'the expected pattern')}`;
      return `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'has none of the allowed shapes';
    default:
      return undefined;
  }
}

/** Where an input sits and what it was checked against, for describeZodIssue. */
export interface IssueSource {
  /** The name of the input as a whole (`body`, `query`, `custom.batchron`), and the prefix of every path. */
  root: string;
  /** Whether paths start with `root` (`body.from`) or without it (`schedules.x` in a config). */
  prefixed: boolean;
  /** The schema parsed, walked for the fields an object accepts. */
  schema: unknown;
  /** The input parsed, for the value at an issue's path when the issue carries none. */
  input: unknown;
}

/** The Issues of a failed parse, every one in plain words (parse with `error: plainWords`). */
export function zodIssues(error: { issues: readonly z.core.$ZodIssue[] }, source: IssueSource): Issue[] {
  return error.issues.flatMap((i) => describeZodIssue(i, source));
}

/** The Issues one zod issue becomes: one per unknown field, the inner problems of a union's near branch. */
export function describeZodIssue(zi: z.core.$ZodIssue, source: IssueSource): Issue[] {
  const where = issuePath(source, zi.path);
  if (zi.code === 'unrecognized_keys') {
    const allowed = allowedKeys(source.schema, zi.path);
    return zi.keys.map((key) => {
      const near = allowed ? closest(key, allowed, 3) : undefined;
      const hint = near ? `did you mean "${near}"? ` : '';
      return issue(where, `unknown field "${key}" (${hint}${allowed ? `allowed: ${allowed.join(', ')}` : 'remove it'})`);
    });
  }
  if (zi.code === 'invalid_union' && zi.errors.length > 0) {
    // A value of the right kind for exactly one of the shapes (a mapping where the other
    // shape is a string): report what is wrong inside that shape, at its own path.
    const near = zi.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (near.length === 1 && near[0]!.length > 0) {
      return near[0]!.flatMap((inner) => describeZodIssue({ ...inner, path: [...zi.path, ...inner.path] } as z.core.$ZodIssue, source));
    }
  }
  if (zi.code === 'invalid_key') {
    const inner = zi.issues[0]?.message ?? 'invalid name';
    return [issue(where, `invalid name "${String(zi.path[zi.path.length - 1])}" (${inner})`)];
  }
  const input = 'input' in zi ? zi.input : valueAt(source.input, zi.path);
  // A length limit says the length it got, never the (possibly huge) value itself.
  const given = (zi.code === 'too_big' || zi.code === 'too_small') && (typeof input === 'string' || Array.isArray(input)) ? String(input.length) : show(input);
  const got = input === undefined || zi.code === 'invalid_type' || /\(got /.test(zi.message) ? '' : ` (got ${given})`;
  return [issue(where, `${zi.message}${got}`)];
}

/** `root.a.b[0].c`, or `a.b[0].c` when paths go without their root (the root itself when empty). */
function issuePath(source: IssueSource, path: readonly PropertyKey[]): string {
  if (path.length === 0) return source.root;
  const rest = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 && !source.prefixed ? String(p) : `.${String(p)}`)).join('');
  return source.prefixed ? `${source.root}${rest}` : rest;
}

/** The field names a strict object at `path` accepts, found by walking the schema. */
function allowedKeys(root: unknown, path: readonly PropertyKey[]): string[] | undefined {
  let schema: unknown = root;
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

/** A plain object (a mapping in YAML), not an array or null. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function article(type: string): string {
  // A record is what YAML and JSON users call an object.
  const names: Record<string, string> = { array: 'a list', object: 'an object', record: 'an object', string: 'a string', number: 'a number', boolean: 'true or false', int: 'a whole number' };
  return names[type] ?? type;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' && Number.isNaN(v)) return 'not a number';
  return `${typeof v} ${show(v)}`;
}

/** A value as the user wrote it, cut at 80 characters. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
