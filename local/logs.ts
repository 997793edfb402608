/**
 * CloudWatch Logs, as far as reading job output goes: GetLogEvents, FilterLogEvents and
 * DescribeLogStreams over the local Batch job log files. The HTTP API reads a job's log
 * through `@aws-sdk/client-cloudwatch-logs` on AWS; pointing the same client at the local
 * endpoint makes it read these files, so there is one code path for both.
 *
 * Protocol: awsJson1_1 (`POST /`, `X-Amz-Target: Logs_20140328.<Operation>`), members in
 * camelCase, timestamps as epoch milliseconds (the model types them as longs).
 *
 * Differences from CloudWatch, documented in docs/api.md:
 * - an event is one line of the job's output; lines carry no time of their own in the
 *   file, so every event of a stream has the file's modification time as `timestamp` and
 *   `ingestionTime`;
 * - a line still being written (no newline yet) is held back until the stream is complete,
 *   so a follower never sees half a line twice.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { AwsError, type AwsRequest, type AwsResponse, type LocalService } from './contracts.ts';
import { jsonBody } from './endpoint.ts';

/** Where a log stream's text lives. */
export interface LogStreamSource {
  /** The log file of the job attempt. */
  file: string;
  /** False while the job attempt may still write to it; a trailing partial line is then held back. */
  complete?: boolean;
}

/**
 * Finds the file behind a log stream. The local Batch names streams like AWS Batch does
 * (`<job definition>/default/<task id>`) and knows which attempt each belongs to.
 * Returning a plain path means the stream is complete.
 */
export type LogStreamResolver = (logGroupName: string, logStreamName: string) => string | LogStreamSource | undefined;

/** Lists the streams of a group, for DescribeLogStreams and FilterLogEvents without stream names. */
export type LogStreamLister = (logGroupName: string) => string[];

export interface LocalLogsOptions {
  resolve: LogStreamResolver;
  list?: LogStreamLister;
}

/**
 * Streams backed by the local Batch's log folder, where each attempt writes
 * `<logDir>/<job definition>/default/<task id>.log` for the stream of the same name
 * (`<dataDir>/logs/batch` when the stack has a data folder). Any log group resolves there:
 * a job definition may name its own `awslogs-group`, and locally there is only one folder.
 */
export function batchLogDirectory(logDir: string): LocalLogsOptions {
  return {
    resolve: (_group, stream) => {
      const file = `${join(logDir, ...stream.split('/'))}.log`;
      // A stream name is client input: never let `..` reach outside the folder.
      const rel = relative(logDir, file);
      if (rel.startsWith('..') || rel.split(sep).includes('..')) return undefined;
      return statOf(file) ? file : undefined;
    },
    list: () => listLogFiles(logDir).map((file) => relative(logDir, file).replace(/\.log$/, '').split(sep).join('/')),
  };
}

function listLogFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return listLogFiles(path);
    return e.name.endsWith('.log') ? [path] : [];
  });
}

/** One event as GetLogEvents returns it. */
interface OutputLogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

/** CloudWatch's own page limit for GetLogEvents and FilterLogEvents. */
const MAX_LIMIT = 10_000;
/** CloudWatch's page size cap for a GetLogEvents response (1 MB). */
const MAX_PAGE_BYTES = 1_048_576;

/** The local CloudWatch Logs service, registered on the shared endpoint under the signing name `logs`. */
export class LocalLogs implements LocalService {
  readonly signingName = 'logs';
  private readonly resolve: LogStreamResolver;
  private readonly list: LogStreamLister | undefined;

  constructor(opts: LocalLogsOptions | LogStreamResolver) {
    if (typeof opts === 'function') {
      this.resolve = opts;
      this.list = undefined;
    } else {
      this.resolve = opts.resolve;
      this.list = opts.list;
    }
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target.replace(/^Logs_20140328\./, '') : '';
    const body = jsonBody<Record<string, unknown>>(req);
    let result: unknown;
    switch (operation) {
      case 'GetLogEvents':
        result = this.getLogEvents(body);
        break;
      case 'FilterLogEvents':
        result = this.filterLogEvents(body);
        break;
      case 'DescribeLogStreams':
        result = this.describeLogStreams(body);
        break;
      default:
        throw new AwsError(
          'UnknownOperationException',
          `The local CloudWatch Logs does not implement '${operation || String(target)}' (it serves GetLogEvents, FilterLogEvents and DescribeLogStreams).`,
        );
    }
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: result };
  }

  /**
   * GetLogEvents: without a token, the newest events (or the oldest with startFromHead);
   * a forward token reads on from where the last page ended, a backward one reads the page
   * before. At the end of the stream the forward token comes back unchanged, as on AWS.
   */
  getLogEvents(body: Record<string, unknown>): {
    events: OutputLogEvent[];
    nextForwardToken: string;
    nextBackwardToken: string;
  } {
    const group = groupName(body);
    const stream = requiredString(body, 'logStreamName');
    const limit = limitOf(body);
    const startTime = optionalNumber(body, 'startTime');
    const endTime = optionalNumber(body, 'endTime');
    const startFromHead = body.startFromHead === true;
    const token = optionalString(body, 'nextToken');

    const all = this.readStream(group, stream).filter(
      (e) => (startTime === undefined || e.timestamp >= startTime) && (endTime === undefined || e.timestamp < endTime),
    );

    let start: number;
    let end: number;
    if (token !== undefined) {
      const parsed = parseToken(token);
      const at = Math.min(parsed.index, all.length);
      if (parsed.direction === 'f') {
        start = at;
        end = Math.min(all.length, start + limit);
      } else {
        end = at;
        start = Math.max(0, end - limit);
      }
    } else if (startFromHead) {
      start = 0;
      end = Math.min(all.length, limit);
    } else {
      end = all.length;
      start = Math.max(0, end - limit);
    }
    // The 1 MB cap, trimmed from the far end of the reading direction.
    let bytes = 0;
    const forward = token === undefined ? startFromHead : parseToken(token).direction === 'f';
    if (forward) {
      for (let i = start; i < end; i++) {
        bytes += Buffer.byteLength(all[i]!.message) + 26;
        if (bytes > MAX_PAGE_BYTES) {
          end = Math.max(start + 1, i);
          break;
        }
      }
    } else {
      for (let i = end - 1; i >= start; i--) {
        bytes += Buffer.byteLength(all[i]!.message) + 26;
        if (bytes > MAX_PAGE_BYTES) {
          start = Math.min(end - 1, i + 1);
          break;
        }
      }
    }
    return {
      events: all.slice(start, end),
      nextForwardToken: formatToken('f', end),
      nextBackwardToken: formatToken('b', start),
    };
  }

  /** FilterLogEvents over the named streams (or every listed one); `filterPattern` as a plain substring match. */
  filterLogEvents(body: Record<string, unknown>): {
    events: (OutputLogEvent & { logStreamName: string; eventId: string })[];
    searchedLogStreams: { logStreamName: string; searchedCompletely: boolean }[];
    nextToken?: string;
  } {
    const group = groupName(body);
    const names = Array.isArray(body.logStreamNames)
      ? body.logStreamNames.filter((n): n is string => typeof n === 'string')
      : (this.list?.(group) ?? []);
    const prefix = optionalString(body, 'logStreamNamePrefix');
    const limit = limitOf(body);
    const startTime = optionalNumber(body, 'startTime');
    const endTime = optionalNumber(body, 'endTime');
    const pattern = optionalString(body, 'filterPattern')?.replace(/^"(.*)"$/, '$1') ?? '';
    const token = optionalString(body, 'nextToken');
    const offset = token === undefined ? 0 : parseToken(token).index;

    const events: (OutputLogEvent & { logStreamName: string; eventId: string })[] = [];
    const searched: { logStreamName: string; searchedCompletely: boolean }[] = [];
    for (const name of names.filter((n) => prefix === undefined || n.startsWith(prefix))) {
      const stream = this.tryReadStream(group, name);
      if (!stream) continue;
      searched.push({ logStreamName: name, searchedCompletely: true });
      stream.forEach((e, i) => {
        if (startTime !== undefined && e.timestamp < startTime) return;
        if (endTime !== undefined && e.timestamp > endTime) return;
        if (pattern && !e.message.includes(pattern)) return;
        events.push({ ...e, logStreamName: name, eventId: `${name}:${i}` });
      });
    }
    events.sort((a, b) => a.timestamp - b.timestamp);
    const page = events.slice(offset, offset + limit);
    const more = offset + limit < events.length;
    return {
      events: page,
      searchedLogStreams: searched,
      ...(more ? { nextToken: formatToken('f', offset + limit) } : {}),
    };
  }

  /** DescribeLogStreams over the streams the lister knows, by name, optionally by prefix. */
  describeLogStreams(body: Record<string, unknown>): {
    logStreams: {
      logStreamName: string;
      creationTime: number;
      firstEventTimestamp?: number;
      lastEventTimestamp?: number;
      lastIngestionTime?: number;
      storedBytes: number;
      arn: string;
    }[];
    nextToken?: string;
  } {
    const group = groupName(body);
    const prefix = optionalString(body, 'logStreamNamePrefix');
    const limit = Math.min(optionalNumber(body, 'limit') ?? 50, 50);
    const token = optionalString(body, 'nextToken');
    const offset = token === undefined ? 0 : parseToken(token).index;
    const names = (this.list?.(group) ?? []).filter((n) => prefix === undefined || n.startsWith(prefix)).sort();
    if (body.descending === true) names.reverse();
    const streams = [];
    for (const name of names.slice(offset, offset + limit)) {
      const source = sourceOf(this.resolve(group, name));
      if (!source) continue;
      const stat = statOf(source.file);
      streams.push({
        logStreamName: name,
        creationTime: stat?.birthtimeMs ?? 0,
        ...(stat && stat.size > 0
          ? {
              firstEventTimestamp: Math.floor(stat.mtimeMs),
              lastEventTimestamp: Math.floor(stat.mtimeMs),
              lastIngestionTime: Math.floor(stat.mtimeMs),
            }
          : {}),
        storedBytes: 0, // deprecated on AWS, always 0 there too
        arn: `arn:aws:logs:us-east-1:000000000000:log-group:${group}:log-stream:${name}`,
      });
    }
    const more = offset + limit < names.length;
    return { logStreams: streams, ...(more ? { nextToken: formatToken('f', offset + limit) } : {}) };
  }

  private readStream(group: string, stream: string): OutputLogEvent[] {
    const events = this.tryReadStream(group, stream);
    if (!events) throw new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');
    return events;
  }

  private tryReadStream(group: string, stream: string): OutputLogEvent[] | undefined {
    const source = sourceOf(this.resolve(group, stream));
    if (!source) return undefined;
    const stat = statOf(source.file);
    // A job that has not written yet has a stream with no events, as a fresh container does.
    if (!stat) return [];
    const text = readFileSync(source.file, 'utf8');
    const lines = text.split('\n');
    const last = lines.pop() ?? '';
    if (last !== '' && source.complete !== false) lines.push(last);
    const t = Math.floor(stat.mtimeMs);
    // Docker's awslogs driver sends no event for an empty line; neither do we.
    return lines
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line !== '')
      .map((message) => ({ timestamp: t, message, ingestionTime: t }));
  }
}

function sourceOf(found: string | LogStreamSource | undefined): LogStreamSource | undefined {
  if (found === undefined) return undefined;
  return typeof found === 'string' ? { file: found, complete: true } : found;
}

function statOf(file: string): { mtimeMs: number; birthtimeMs: number; size: number } | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

// AWS tokens are `f/` or `b/` and 56 digits; callers treat them as opaque, so the digits
// here are simply the event index, zero-padded to the same length.
function formatToken(direction: 'f' | 'b', index: number): string {
  return `${direction}/${String(index).padStart(56, '0')}`;
}

function parseToken(token: string): { direction: 'f' | 'b'; index: number } {
  const m = /^([fb])\/(\d{1,56})$/.exec(token);
  if (!m) throw new AwsError('InvalidParameterException', 'The specified nextToken is invalid.');
  return { direction: m[1] as 'f' | 'b', index: Number(m[2]) };
}

function groupName(body: Record<string, unknown>): string {
  const name = optionalString(body, 'logGroupName') ?? optionalString(body, 'logGroupIdentifier');
  if (!name) {
    throw new AwsError('InvalidParameterException', 'Either logGroupName or logGroupIdentifier must be specified.');
  }
  // logGroupIdentifier may be an ARN; the group name is what follows `log-group:`.
  return name.replace(/^arn:aws[^:]*:logs:[^:]*:[^:]*:log-group:/, '').replace(/:\*$/, '');
}

function requiredString(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') {
    throw new AwsError('InvalidParameterException', `1 validation error detected: Value at '${key}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function limitOf(body: Record<string, unknown>): number {
  const limit = optionalNumber(body, 'limit');
  if (limit === undefined) return MAX_LIMIT;
  if (limit < 1 || limit > MAX_LIMIT || !Number.isInteger(limit)) {
    throw new AwsError(
      'InvalidParameterException',
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${MAX_LIMIT}`,
    );
  }
  return limit;
}
