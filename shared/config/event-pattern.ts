/**
 * EventBridge event pattern matching, as the EventBridge user guide describes it
 * ("Event patterns", "Comparison operators"): a pattern is a JSON object whose leaves
 * are arrays of matchers; every field in the pattern must match (AND), any matcher in a
 * leaf's array may match (OR), and an event field holding an array matches when any of
 * its elements does. Supported matchers: exact values (string, number, boolean, null),
 * `prefix`, `suffix` (both also with `equals-ignore-case`), `equals-ignore-case`,
 * `wildcard`, `anything-but` (a value, a list, `prefix`, `suffix`, `equals-ignore-case`,
 * `wildcard`), `numeric` ranges, `exists`, `cidr` and `$or`.
 *
 * No maintained npm package implements this (AWS's reference, event-ruler, is Java), so
 * it lives here, following event-ruler's documented semantics: numeric matching within
 * ±5.0e9, `cidr` for IPv4 and IPv6, arrays searched at any depth with array-consistent
 * matching (fields of one pattern object agree within one array element), `exists` only on
 * leaves. Patterns are compiled once (and validated, answering the bus's
 * `InvalidEventPatternException` for a bad one), then matched many times. Pattern and event
 * text are parsed without losing digits (`parseEventJson`), so integers beyond 2^53 compare
 * exactly as EventBridge compares them.
 */
import { BlockList, isIP } from 'node:net';
import { isLosslessNumber, isSafeNumber, LosslessNumber, parse as parseLossless } from 'lossless-json';
import { ANY, matchTokens } from '../glob.ts';

/** A pattern that EventBridge would reject, with the reason. */
export class EventPatternError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventPatternError';
  }
}

/** A compiled pattern: true when the event matches. */
export type EventMatcher = (event: unknown) => boolean;

type Leaf = string | number | boolean | null | LosslessNumber;

/** EventBridge's numeric-matching range ("limited to value between -5.0e9 and +5.0e9 inclusive"). */
export const NUMERIC_LIMIT = 5e9;
/** Operator names, which EventBridge refuses as field names inside `$or`. */
const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'cidr', 'exists']);

/**
 * Parses JSON text as EventBridge reads it: numbers that a double holds exactly become numbers,
 * others (integers beyond 2^53, over-long decimals) keep their digits as a LosslessNumber.
 */
export function parseEventJson(text: string): unknown {
  return parseLossless(text, undefined, (digits) => (isSafeNumber(digits) ? Number(digits) : new LosslessNumber(digits)));
}
type ValueTest = (value: Leaf) => boolean;

/** A field's matcher list; `exists` needs the field's presence rather than one value. */
interface FieldTest {
  /** Matches one leaf value of the field (any value of an array field may match). */
  values: ValueTest[];
  /** `exists: true` / `exists: false` entries; evaluated against presence. */
  exists: boolean[];
}

type Node =
  | { kind: 'object'; fields: [string, Node][]; or: Node[][] }
  | { kind: 'leaf'; test: FieldTest };

/**
 * Compiles an event pattern (an object, or its JSON text) into a matcher.
 * @throws EventPatternError when the pattern is not one EventBridge accepts
 */
export function compilePattern(pattern: unknown): EventMatcher {
  const parsed = typeof pattern === 'string' ? parseJson(pattern) : pattern;
  if (!isObject(parsed) || Object.keys(parsed).length === 0) {
    throw new EventPatternError('Event pattern must be a non-empty JSON object.');
  }
  const root = compileObject(parsed, '');
  return (event) => matchObject(root, event);
}

/** True when `event` matches `pattern`; compiles the pattern on every call, so prefer `compilePattern` in loops. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

function parseJson(text: string): unknown {
  try {
    return parseEventJson(text);
  } catch (error) {
    throw new EventPatternError('Event pattern is not valid JSON.', { cause: error });
  }
}

function compileObject(pattern: Record<string, unknown>, path: string): Extract<Node, { kind: 'object' }> {
  const fields: [string, Node][] = [];
  const or: Node[][] = [];
  for (const [key, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        throw new EventPatternError(`${here}: "$or" takes an array of at least two pattern objects.`);
      }
      for (const alt of value as Record<string, unknown>[]) {
        const reserved = Object.keys(alt).find((k) => OPERATORS.has(k));
        if (reserved) throw new EventPatternError(`${here}: "${reserved}" is an operator and cannot be a field name inside "$or".`);
      }
      or.push(value.map((alt) => compileObject(alt as Record<string, unknown>, here)));
    } else if (Array.isArray(value)) {
      fields.push([key, { kind: 'leaf', test: compileLeaf(value, here) }]);
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) throw new EventPatternError(`${here}: an empty object matches nothing; give a field or remove it.`);
      fields.push([key, compileObject(value, here)]);
    } else {
      throw new EventPatternError(`${here}: a pattern value must be an array of matchers or a nested object.`);
    }
  }
  return { kind: 'object', fields, or };
}

function compileLeaf(matchers: unknown[], path: string): FieldTest {
  if (matchers.length === 0) throw new EventPatternError(`${path}: an empty array matches nothing.`);
  const test: FieldTest = { values: [], exists: [] };
  for (const m of matchers) {
    if (m === null || typeof m === 'string' || typeof m === 'number' || typeof m === 'boolean' || isLosslessNumber(m)) {
      test.values.push((v) => exactEquals(m, v));
      continue;
    }
    if (!isObject(m)) throw new EventPatternError(`${path}: unsupported matcher ${JSON.stringify(m)}.`);
    const keys = Object.keys(m);
    if (keys.length !== 1) throw new EventPatternError(`${path}: a matcher object has exactly one operator.`);
    const op = keys[0]!;
    const arg = m[op];
    if (op === 'exists') {
      if (typeof arg !== 'boolean') throw new EventPatternError(`${path}: "exists" takes true or false.`);
      test.exists.push(arg);
    } else {
      test.values.push(compileOperator(op, arg, path));
    }
  }
  return test;
}

function compileOperator(op: string, arg: unknown, path: string): ValueTest {
  switch (op) {
    case 'prefix':
      return stringTest(arg, path, op, (v, s) => v.startsWith(s), (v, s) => lower(v).startsWith(lower(s)));
    case 'suffix':
      return stringTest(arg, path, op, (v, s) => v.endsWith(s), (v, s) => lower(v).endsWith(lower(s)));
    case 'equals-ignore-case': {
      const s = requireString(arg, path, op);
      return (v) => typeof v === 'string' && lower(v) === lower(s);
    }
    case 'wildcard': {
      const matches = wildcardMatcher(requireString(arg, path, op), path);
      return (v) => typeof v === 'string' && matches(v);
    }
    case 'numeric':
      return numericTest(arg, path);
    case 'cidr':
      return cidrTest(requireString(arg, path, op), path);
    case 'anything-but':
      return anythingBut(arg, path);
    default:
      throw new EventPatternError(`${path}: unknown operator "${op}".`);
  }
}

/** `prefix`/`suffix` take a string or `{ "equals-ignore-case": string }`. */
function stringTest(
  arg: unknown,
  path: string,
  op: string,
  exact: (v: string, s: string) => boolean,
  ignoreCase: (v: string, s: string) => boolean,
): ValueTest {
  if (typeof arg === 'string') return (v) => typeof v === 'string' && exact(v, arg);
  if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg['equals-ignore-case'] === 'string') {
    const s = arg['equals-ignore-case'];
    return (v) => typeof v === 'string' && ignoreCase(v, s);
  }
  throw new EventPatternError(`${path}: "${op}" takes a string or {"equals-ignore-case": string}.`);
}

function anythingBut(arg: unknown, path: string): ValueTest {
  // A single value or a list of values (all strings or all numbers).
  if (typeof arg === 'string' || typeof arg === 'number' || isLosslessNumber(arg)) return (v) => !exactEquals(arg as Leaf, v);
  if (Array.isArray(arg)) {
    const allStrings = arg.every((x) => typeof x === 'string');
    const allNumbers = arg.every((x) => typeof x === 'number' || isLosslessNumber(x));
    if (arg.length === 0 || !(allStrings || allNumbers)) {
      throw new EventPatternError(`${path}: "anything-but" takes a list of only strings or only numbers.`);
    }
    return (v) => !arg.some((x: Leaf) => exactEquals(x, v));
  }
  if (isObject(arg) && Object.keys(arg).length === 1) {
    const [op, inner] = Object.entries(arg)[0]!;
    const strings = (allowEmpty: boolean): string[] => {
      const list = Array.isArray(inner) ? inner : [inner];
      if (list.length === 0 || !list.every((x) => typeof x === 'string')) {
        throw new EventPatternError(`${path}: "anything-but" / "${op}" takes a string or a list of strings.`);
      }
      if (!allowEmpty && list.some((x) => x === '')) throw new EventPatternError(`${path}: "anything-but" / "${op}" cannot be an empty string.`);
      return list as string[];
    };
    // The string forms only ever match string values: a number is not "anything but a prefix".
    switch (op) {
      case 'prefix': {
        const list = strings(false);
        return (v) => typeof v === 'string' && !list.some((p) => v.startsWith(p));
      }
      case 'suffix': {
        const list = strings(false);
        return (v) => typeof v === 'string' && !list.some((p) => v.endsWith(p));
      }
      case 'equals-ignore-case': {
        const list = strings(true).map(lower);
        return (v) => typeof v === 'string' && !list.includes(lower(v));
      }
      case 'wildcard': {
        const matchers = strings(true).map((s) => wildcardMatcher(s, path));
        return (v) => typeof v === 'string' && !matchers.some((m) => m(v));
      }
    }
  }
  throw new EventPatternError(`${path}: unsupported "anything-but" form ${JSON.stringify(arg)}.`);
}

const COMPARATORS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/**
 * `numeric` takes `["=", n]`, one bound (`[">", 0]`), or a lower then an upper bound
 * (`[">", 0, "<=", 5]`) that leaves some number between them; every number within ±5.0e9.
 * Only JSON numbers in that range match.
 */
function numericTest(arg: unknown, path: string): ValueTest {
  const bad = (why: string) => new EventPatternError(`${path}: "numeric" ${why}.`);
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw bad('takes [op, number] or [lower op, number, upper op, number]');
  }
  const pairs: [string, number][] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = isLosslessNumber(arg[i + 1]) ? Number((arg[i + 1] as LosslessNumber).value) : arg[i + 1];
    if (typeof op !== 'string' || !COMPARATORS[op]) throw bad(`has an unknown comparison ${JSON.stringify(op)} (use <, <=, =, >, >=)`);
    if (typeof n !== 'number' || !Number.isFinite(n)) throw bad(`compares with ${JSON.stringify(arg[i + 1])}, which is not a number`);
    if (Math.abs(n) > NUMERIC_LIMIT) throw bad(`compares with ${n}, outside the range EventBridge matches (-5.0e9 to 5.0e9)`);
    pairs.push([op, n]);
  }
  if (pairs.length === 2) {
    const [[lowOp, low], [highOp, high]] = pairs as [[string, number], [string, number]];
    if (!(lowOp === '>' || lowOp === '>=') || !(highOp === '<' || highOp === '<=')) {
      throw bad('with two comparisons takes a lower bound (> or >=) then an upper bound (< or <=)');
    }
    if (low > high || (low === high && (lowOp === '>' || highOp === '<'))) throw bad(`range ${lowOp} ${low} and ${highOp} ${high} contains no number`);
  }
  const checks = pairs.map(([op, n]) => (v: number) => COMPARATORS[op]!(v, n));
  return (v) => typeof v === 'number' && Math.abs(v) <= NUMERIC_LIMIT && checks.every((c) => c(v));
}

/** `cidr` takes an IPv4 or IPv6 block; string values that are addresses of the same family inside it match. */
function cidrTest(cidr: string, path: string): ValueTest {
  const slash = cidr.lastIndexOf('/');
  const address = slash > 0 ? cidr.slice(0, slash) : '';
  const bitsText = slash > 0 ? cidr.slice(slash + 1) : '';
  const family = isIP(address);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (family === 0 || !(bits >= 0 && bits <= (family === 4 ? 32 : 128))) {
    throw new EventPatternError(`${path}: "cidr" takes an IPv4 or IPv6 block such as 10.0.0.0/24 or 2001:db8::/32.`);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const block = new BlockList();
  block.addSubnet(address, bits, type);
  return (v) => typeof v === 'string' && isIP(v) === family && block.check(v, type);
}

/**
 * `*` matches any run of characters; `\*` and `\\` escape; anything else is literal. Matched
 * by shared/glob.ts's walk, without a regular expression: a pattern with many `*` costs at
 * most text × pattern steps, never backtracking blow-up.
 */
function wildcardMatcher(pattern: string, path: string): (text: string) => boolean {
  // Tokens: a literal character, or ANY (`*`).
  const tokens: (string | null)[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw new EventPatternError(`${path}: bad escape in wildcard "${pattern}".`);
      tokens.push(next);
      i++;
    } else if (c === '*') {
      if (pattern[i + 1] === '*') throw new EventPatternError(`${path}: consecutive "*" in wildcard "${pattern}".`);
      tokens.push(ANY);
    } else {
      tokens.push(c);
    }
  }
  return (text) => matchTokens(tokens, text);
}

function requireString(arg: unknown, path: string, op: string): string {
  if (typeof arg !== 'string') throw new EventPatternError(`${path}: "${op}" takes a string.`);
  return arg;
}

function exactEquals(expected: Leaf, v: Leaf): boolean {
  // JSON has one number type, so 3 and 3.0 are the same value; types never coerce ("3" is not 3).
  if (isLosslessNumber(expected) || isLosslessNumber(v)) return numberKey(expected) !== undefined && numberKey(expected) === numberKey(v);
  return expected === v;
}

/** A number's exact value as text: integers by their digits (however many), others as a double prints them. */
function numberKey(x: Leaf): string | undefined {
  const text = isLosslessNumber(x) ? x.value : typeof x === 'number' ? String(x) : undefined;
  if (text === undefined) return undefined;
  if (/^-?\d+$/.test(text)) return BigInt(text).toString();
  const n = Number(text);
  return Number.isInteger(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER ? BigInt(n).toString() : isLosslessNumber(x) ? x.value : String(n);
}

function lower(s: string): string {
  return s.toLowerCase();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

// ---- matching ----

function matchObject(node: Extract<Node, { kind: 'object' }>, value: unknown): boolean {
  // An event array under a nested pattern (at any depth of nesting) matches when one of its
  // elements matches the whole sub-pattern, so fields of one pattern object agree within one element.
  if (Array.isArray(value)) {
    const objects = (value.flat(Infinity) as unknown[]).filter(isObject);
    if (objects.length === 0) return matchFields(node, undefined, []);
    return objects.some((element) => matchFields(node, element, objects));
  }
  return matchFields(node, isObject(value) ? value : undefined, []);
}

/**
 * `siblings`: the other elements of the array `obj` came from. A field that is absent from `obj`
 * but present in a sibling still exists in the event (EventBridge flattens arrays), so
 * `exists: false` holds only when no element has it.
 */
function matchFields(node: Extract<Node, { kind: 'object' }>, obj: Record<string, unknown> | undefined, siblings: Record<string, unknown>[]): boolean {
  for (const [key, child] of node.fields) {
    const fieldValue = obj && Object.hasOwn(obj, key) ? obj[key] : undefined;
    const present = obj !== undefined && Object.hasOwn(obj, key);
    if (child.kind === 'object') {
      if (!matchObject(child, present ? fieldValue : undefined)) return false;
    } else {
      const elsewhere = !present && siblings.some((s) => Object.hasOwn(s, key) && leafValues(s[key]).length > 0);
      if (!matchLeaf(child.test, present, fieldValue, elsewhere)) return false;
    }
  }
  for (const alternatives of node.or) {
    if (!alternatives.some((alt) => alt.kind === 'object' && matchFields(alt, obj, siblings))) return false;
  }
  return true;
}

function matchLeaf(test: FieldTest, present: boolean, value: unknown, existsElsewhere: boolean): boolean {
  const leaves = present ? leafValues(value) : [];
  // A field "exists" when it holds at least one leaf value: an object or an empty array does not count.
  const exists = leaves.length > 0 || existsElsewhere;
  if (test.exists.some((want) => want === exists)) return true;
  return leaves.some((v) => test.values.some((t) => t(v)));
}

function leafValues(value: unknown): Leaf[] {
  if (Array.isArray(value)) return value.flatMap(leafValues);
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || isLosslessNumber(value)) {
    return [value as Leaf];
  }
  return [];
}
