/**
 * How a run is stored: the same fields as RunItemSchema under short attribute names, and
 * times as epoch milliseconds. DynamoDB bills a write per KB of the whole item, attribute
 * names included, and a run is rewritten on every state change: the long form of a run that
 * retried or failed passes 1 KB (2 write units a write), the short one stays under it.
 *
 * What stays long: the keys (shared/config/table.ts), and what listings read from GSI1 and
 * from the run items (RUN_INDEX_ATTRIBUTES, RUN_STATUS_ATTRIBUTES), so the template's
 * projection names the fields a reader knows. A field with no short name here is stored
 * under its own name and read back unchanged: a new field needs no entry to be carried,
 * only one to be carried small. Record keys that are data (task names, parameter names,
 * statuses) are never renamed.
 *
 * A time is stored as a number only when that number gives back the very same string
 * (`Date#toISOString` form); any other string is kept as it came.
 */

/** How one object is stored: its short names, which of its fields are times, and its nested shapes. */
interface Shape {
  names: Record<string, string>;
  times?: readonly string[];
  /** Fields holding one object, a record of objects (keys kept), or an array of objects. */
  nested?: Record<string, { object: Shape } | { record: Shape } | { array: Shape } | { recordOfTimes: true }>;
  /** Fields left out when stored because they equal the record key the object sits under. */
  keyedBy?: string;
}

const NOTIFICATION: Shape = { names: { status: 's', until: 'u', tries: 'n', lastError: 'e' } };

const ATTEMPT: Shape = {
  names: {
    attempt: 'a',
    jobName: 'n',
    jobId: 'j',
    status: 's',
    exitCode: 'x',
    statusReason: 'r',
    logStreamName: 'l',
    submittedAt: 'ts',
    startedAt: 'tb',
    stoppedAt: 'te',
    leaseOwner: 'lo',
    leaseUntil: 'lu',
    slotAt: 'sl',
    deferrals: 'd',
  },
  times: ['submittedAt', 'startedAt', 'stoppedAt'],
};

const TASK: Shape = {
  names: { name: 'n', phase: 'p', status: 's', reason: 'r', retryAt: 'ra', firstAttempt: 'f', attempts: 'a' },
  times: ['retryAt'],
  nested: { attempts: { array: ATTEMPT } },
  keyedBy: 'name',
};

const HISTORY: Shape = {
  names: { attempt: 'a', status: 's', statusReason: 'r', startedAt: 'tb', endedAt: 'te', tasks: 'ts', rerunKey: 'k' },
  times: ['startedAt', 'endedAt'],
};

const RUN: Shape = {
  names: {
    kind: 'K',
    recoveredBy: 'rb',
    parameters: 'P',
    held: 'H',
    interrupted: 'I',
    attempt: 'A',
    attemptStartedAt: 'AS',
    rerunKey: 'RK',
    history: 'HI',
    supersedes: 'SU',
    tasks: 'T',
    updatedAt: 'U',
    since: 'S',
    notify: 'N',
    settled: 'SD',
    finalized: 'F',
    version: 'V',
    // Not a RunItem field: the store's pointer to the run's definition item (definitions.ts).
    definitionHash: 'D',
  },
  times: ['attemptStartedAt', 'updatedAt'],
  nested: {
    tasks: { record: TASK },
    history: { array: HISTORY },
    since: { recordOfTimes: true },
    notify: {
      object: {
        names: { failure: 'f', recovery: 'r', stuck: 's' },
        nested: { failure: { object: NOTIFICATION }, recovery: { object: NOTIFICATION }, stuck: { record: NOTIFICATION } },
      },
    },
  },
};

/** The stored name of a run's top-level field (for expressions that name it). */
export function storedRunName(field: string): string {
  return RUN.names[field] ?? field;
}

/** A run's state (everything but its definition) as stored. */
export function encodeRun(run: Record<string, unknown>): Record<string, unknown> {
  return encode(run, RUN);
}

/** A stored run item back in RunItemSchema's names (parse it after). */
export function decodeRun(item: Record<string, unknown>): Record<string, unknown> {
  return decode(item, RUN);
}

const reversed = new WeakMap<Shape, Record<string, string>>();
function longNames(shape: Shape): Record<string, string> {
  let r = reversed.get(shape);
  if (!r) {
    r = Object.fromEntries(Object.entries(shape.names).map(([long, short]) => [short, long]));
    reversed.set(shape, r);
  }
  return r;
}

function encodeTime(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && new Date(ms).toISOString() === value ? ms : value;
}

const decodeTime = (value: unknown): unknown => (typeof value === 'number' ? new Date(value).toISOString() : value);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Set);
}

function mapRecord(value: unknown, f: (v: Record<string, unknown>, key: string) => unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isObject(v) ? f(v, k) : v]));
}

function encode(value: Record<string, unknown>, shape: Shape, key?: string): Record<string, unknown> {
  const shorts = longNames(shape);
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (shape.keyedBy === name && v === key) continue;
    // A field with no short name keeps its own, which must not be some other field's short one.
    if (!(name in shape.names) && name in shorts) throw new Error(`run field '${name}' collides with the stored name of '${shorts[name]}'`);
    out[shape.names[name] ?? name] = encodeField(name, v, shape);
  }
  return out;
}

const encodeField = (name: string, v: unknown, shape: Shape): unknown => codeField(name, v, shape, encode, encodeTime);

function decode(value: Record<string, unknown>, shape: Shape, key?: string): Record<string, unknown> {
  const longs = longNames(shape);
  const out: Record<string, unknown> = {};
  for (const [stored, v] of Object.entries(value)) {
    const name = longs[stored] ?? stored;
    out[name] = decodeField(name, v, shape);
  }
  if (shape.keyedBy && key !== undefined && !(shape.keyedBy in out)) out[shape.keyedBy] = key;
  return out;
}

const decodeField = (name: string, v: unknown, shape: Shape): unknown => codeField(name, v, shape, decode, decodeTime);

/** One field either way: `item` for a nested shape (encode or decode), `time` for a time. */
function codeField(
  name: string,
  v: unknown,
  shape: Shape,
  item: (value: Record<string, unknown>, shape: Shape, key?: string) => Record<string, unknown>,
  time: (v: unknown) => unknown,
): unknown {
  if (shape.times?.includes(name)) return time(v);
  const nested = shape.nested?.[name];
  if (!nested) return v;
  if ('object' in nested) return isObject(v) ? item(v, nested.object) : v;
  if ('record' in nested) return mapRecord(v, (x, k) => item(x, nested.record, k));
  if ('array' in nested) return Array.isArray(v) ? v.map((x) => (isObject(x) ? item(x, nested.array) : x)) : v;
  return isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, t]) => [k, time(t)])) : v;
}
