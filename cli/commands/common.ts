/**
 * What every `batchron` command shares: the exit codes scripts rely on, the mapping from
 * errors to those codes with one clear line on stderr, option values checked with zod
 * (so `--count abc` says what is wrong with it), and the client for the API.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import * as z from 'zod';
import { ApiAuthConfigError, ApiClient, ApiError, ApiUnreachableError, resolveTarget } from '#cli/api-client';

/** Exit codes; documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** `trigger --wait` / `run`: the run ended FAILED or CANCELLED. */
  runFailed: 1,
  /** Bad flags or values, an invalid serverless.yml, or a 400 from the API. */
  usage: 2,
  notFound: 3,
  /** Missing or refused credentials (401/403, no token file, no AWS credentials). */
  auth: 4,
  /** Nothing answered at the API's address. */
  unreachable: 5,
  /** The API refused because of the resource's state (409), e.g. cancelling a finished run. */
  conflict: 6,
  /** The API or the CLI failed unexpectedly (5xx, a bug). */
  internal: 7,
  /** `trigger`: the run was SKIPPED (paused schedule, overlap policy): nothing ran. */
  skipped: 8,
} as const;

/** A usage problem found after commander parsed the flags (e.g. a bad `--param`). */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** A command's outcome that is not an error but sets a non-zero exit (a failed run). */
export class ExitCodeError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ExitCodeError';
  }
}

/**
 * The command-line name of an API field: `body.to` → `--to`, `body.parameters.day` →
 * `--param day`, `headers.idempotency-key` → `--idempotency-key`, `path.name` → `<schedule>`;
 * the API's own path when the command has no such flag.
 */
export function flagFor(path: string, cmd?: Command): string {
  const m = /^(body|query|headers|path)\.([^.]+)(?:\.(.+))?$/.exec(path);
  if (!m || !cmd) return path;
  const [, part, field, rest] = m as unknown as [string, string, string, string | undefined];
  if (part === 'path') {
    const args = cmd.registeredArguments;
    return args.length === 1 ? `<${args[0]!.name()}>` : path;
  }
  const camel = field.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (camel === 'parameters' && rest !== undefined) {
    const param = cmd.options.find((o) => o.attributeName() === 'param');
    if (param?.long) return `${param.long} ${rest}`;
  }
  const option = cmd.options.find((o) => o.attributeName() === camel);
  if (!option?.long) return path;
  return rest === undefined ? option.long : `${option.long} (${rest})`;
}

/** Maps an error to its exit code and the text printed on stderr (`cmd` names the flags). */
export function describeError(error: unknown, cmd?: Command): { code: number; text: string } {
  if (error instanceof ExitCodeError) return { code: error.exitCode, text: error.message };
  if (error instanceof UsageError) return { code: EXIT.usage, text: `error: ${error.message}` };
  if (error instanceof ApiUnreachableError) return { code: EXIT.unreachable, text: `error: ${error.message}` };
  if (error instanceof ApiAuthConfigError) return { code: EXIT.auth, text: `error: ${error.message}` };
  if (error instanceof ApiError) {
    // The API's message repeats its issues; each is printed once, under the flag's name.
    const issues = error.issues.map((i) => `${flagFor(i.path, cmd)}: ${i.message}`);
    const text =
      issues.length === 0 ? `error: ${error.message}` : issues.length === 1 ? `error: ${issues[0]}` : `error: invalid request:${issues.map((i) => `\n  - ${i}`).join('')}`;
    if (error.status === 400 || error.status === 413 || error.status === 422) return { code: EXIT.usage, text };
    if (error.status === 404) return { code: EXIT.notFound, text };
    if (error.status === 401 || error.status === 403) return { code: EXIT.auth, text };
    if (error.status === 409) return { code: EXIT.conflict, text };
    return { code: EXIT.internal, text: `error: the API failed (HTTP ${error.status}): ${error.message}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: EXIT.internal, text: `error: ${message}` };
}

/**
 * Wraps a command action: errors become one stderr line and an exit code (set on
 * `process.exitCode`, not `process.exit`, so pending output is flushed).
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      // Commander passes the command itself last: it knows the flags' names.
      const cmd = args.at(-1) instanceof Command ? (args.at(-1) as Command) : undefined;
      const { code, text } = describeError(error, cmd);
      if (text) process.stderr.write(`${code === EXIT.runFailed || code === EXIT.skipped ? text : pc.red(text)}\n`);
      process.exitCode = code;
    }
  };
}

/**
 * Makes commander's own usage errors (unknown option, missing argument) exit with 2
 * instead of its default 1, which scripts would read as "run failed".
 */
export function usageExit(cmd: Command): Command {
  return cmd.exitOverride((err: CommanderError) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    // Help shown because something was missing (`batchron` alone) is a usage error.
    if (err.code === 'commander.help') process.exit(err.exitCode === 0 ? 0 : EXIT.usage);
    process.exit(EXIT.usage);
  });
}

/** Options every command that calls the API takes. */
export interface ApiOptions {
  api?: string;
  tokenFile?: string;
  json?: boolean;
}

/** Adds `--api`, `--token-file` and `--json` to a command. */
export function withApiOptions(cmd: Command, opts: { json?: boolean } = { json: true }): Command {
  cmd.addOption(new Option('--api <url>', 'API base URL (default: the local stack, or $BATCHRON_API_URL)'));
  cmd.addOption(new Option('--token-file <file>', 'local API token file').default('.batchron/api-token'));
  if (opts.json !== false) cmd.option('--json', 'print JSON for scripts');
  return usageExit(cmd);
}

/** The API client for a command's options. */
export function clientFor(opts: ApiOptions): ApiClient {
  return new ApiClient(resolveTarget({ ...(opts.api ? { api: opts.api } : {}), ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}) }));
}

/** Parses a flag value with a zod schema; the error names the flag. */
export function parseFlag<T>(flag: string, schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new UsageError(`${flag} ${r.error.issues[0]?.message ?? 'is not valid'}`);
}

/** True when the YYYY-MM-DD at the start of `s` is a day of the calendar (Date.parse rolls 2026-02-30 over to March 2). */
function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export const IsoInstant = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)) && isCalendarDate(s), {
    message: 'must be an ISO-8601 instant such as 2026-11-23T00:00:00Z',
  });

export const PositiveInt = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: `must be a whole number between 1 and ${max}` })
    .min(1, { error: `must be between 1 and ${max}` })
    .max(max, { error: `must be between 1 and ${max}` });

const ParamFlag = z
  .string()
  .regex(/^[^=]+=/, { error: 'must be NAME=VALUE (e.g. --param day=2026-11-23)' })
  .transform((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)] as const);

/**
 * `--param k=v`, repeatable: collects into a record; the value may itself contain `=`.
 * A malformed one is refused by commander (exit 2) with the reason.
 */
export function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const r = ParamFlag.safeParse(value);
  if (!r.success) throw new InvalidArgumentError(r.error.issues[0]?.message ?? 'must be NAME=VALUE');
  const [k, v] = r.data;
  return { ...previous, [k]: v };
}

/** Sleeps between polls of `--wait`, `--watch` and `--follow`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `encodeURIComponent` for a path segment (run ids contain `#`/`:`). */
export const seg = encodeURIComponent;
