/**
 * What every listener of the local stack checks before it reads a request, so that only
 * this machine's own clients reach it (the same stance as webpack-dev-server's
 * `allowedHosts` and Vite's `server.allowedHosts`):
 *
 *   socket ──▶ bound to loopback only (refused at start otherwise)
 *          ──▶ Host is a loopback name or one the user allowed     ─┐
 *          ──▶ Origin, when present, is loopback or allowed         ├─ else 403, body unread
 *          ──▶ Sec-Fetch-Site is not `cross-site`                  ─┘
 *          ──▶ body read up to the listener's cap (413 past it), then JSON depth checked
 *
 * A web page the user visits cannot pass: DNS rebinding makes its own name resolve to
 * 127.0.0.1, but the browser still sends that name as Host; a cross-site fetch carries
 * its Origin; a no-cors request carries `Sec-Fetch-Site: cross-site`. Clients that are
 * not browsers (the SDKs, the AWS CLI, curl) send a loopback Host and no Origin.
 *
 * The same module holds the server limits (header and request timeouts, connection cap)
 * and the constant-time bearer-token check the HTTP API and the control API share.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import * as z from 'zod';
import { AwsError } from './contracts.ts';

/** Names a user may add with `--allowed-hosts` / `BATCHRON_ALLOWED_HOSTS`: a host name, or `.example.test` for it and its subdomains. */
const AllowedHostSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, {
    message: 'must be a host name such as my-box.local, or .example.test for a domain and its subdomains (no port, no scheme, no wildcard)',
  });

/** A bad `--allowed-hosts` / `BATCHRON_ALLOWED_HOSTS` value or a non-loopback listen address. */
export class GuardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuardConfigError';
  }
}

/** Parses a comma-separated list of allowed host names; throws GuardConfigError naming the bad entry. */
export function parseAllowedHosts(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const raw of text.split(',')) {
    if (raw.trim() === '') continue;
    const parsed = AllowedHostSchema.safeParse(raw);
    if (!parsed.success) {
      throw new GuardConfigError(`allowed host "${raw.trim()}" ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
    }
    out.push(parsed.data);
  }
  return out;
}

/** True for 127.0.0.0/8, ::1 and the IPv4-mapped ::ffff:127.x.x.x. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (isIPv4(a)) return a.startsWith('127.');
  if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) return a.slice(7).startsWith('127.');
  if (isIPv6(a)) return a === '::1' || a === '0:0:0:0:0:0:0:1';
  return false;
}

/** A loopback IP address or `localhost` (which resolves to one); anything else is refused as a listen address. */
export function assertLoopbackBind(host: string): void {
  if (host === 'localhost' || isLoopbackAddress(host)) return;
  throw new GuardConfigError(
    `refusing to listen on ${host}: the local stack runs commands for whoever reaches it, so it listens on loopback only (127.0.0.1, ::1 or localhost)`,
  );
}

/** The host name of a Host header value (`a.b:80`, `[::1]:3000`, `127.0.0.1`), lower-cased, without port or brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.lastIndexOf(':');
  return colon >= 0 && /^\d*$/.test(h.slice(colon + 1)) ? h.slice(0, colon) : h;
}

/** True when a host name is this machine's own: localhost, *.localhost (RFC 6761), a loopback IP, or an allowed name. */
export function isAllowedHostName(name: string, allowed: readonly string[] = []): boolean {
  if (name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name)) return true;
  return allowed.some((a) => (a.startsWith('.') ? name === a.slice(1) || name.endsWith(a) : name === a));
}

/** Why a request was refused before its body was read. */
export interface Refusal {
  status: 403;
  code: 'ForbiddenHost' | 'ForbiddenOrigin';
  message: string;
}

const ALLOW_HINT = 'add the name with --allowed-hosts or BATCHRON_ALLOWED_HOSTS if you mean to reach it by that name';

/**
 * Checks Host, Origin and Sec-Fetch-Site; undefined when the request may proceed. Every
 * listener calls it first, before authentication and before reading the body.
 */
export function checkRequest(headers: IncomingMessage['headers'], allowed: readonly string[] = []): Refusal | undefined {
  const host = headers.host;
  if (typeof host !== 'string' || host.trim() === '') {
    return { status: 403, code: 'ForbiddenHost', message: 'Missing Host header: the local stack answers only requests addressed to localhost, 127.0.0.1 or [::1].' };
  }
  const name = hostName(host);
  if (!isAllowedHostName(name, allowed)) {
    return {
      status: 403,
      code: 'ForbiddenHost',
      message: `Host "${printable(host)}" is not allowed: the local stack answers only requests addressed to localhost, 127.0.0.1 or [::1] (a guard against DNS rebinding); ${ALLOW_HINT}.`,
    };
  }
  const origin = headers.origin;
  if (origin !== undefined && !isAllowedOrigin(String(origin), allowed)) {
    return {
      status: 403,
      code: 'ForbiddenOrigin',
      message: `Origin "${printable(String(origin))}" is not allowed: the local stack answers no other web site's pages, only this machine's own clients; ${ALLOW_HINT}.`,
    };
  }
  if (String(headers['sec-fetch-site'] ?? '').toLowerCase() === 'cross-site') {
    return { status: 403, code: 'ForbiddenOrigin', message: 'Cross-site requests are refused: the local stack answers no other web site\'s pages.' };
  }
  return undefined;
}

/** An Origin is allowed when it is an http(s) origin whose host passes the Host rule; `null` and other schemes are not. */
export function isAllowedOrigin(origin: string, allowed: readonly string[] = []): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return isAllowedHostName(url.hostname.toLowerCase().replace(/^\[|\]$/g, ''), allowed);
}

/** Keeps a header echoed in an error body short and free of control characters. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** Limits every listener applies; the defaults are for people, tests pass smaller ones. */
export interface ServerLimits {
  /** Time to receive a request's headers (Node's server.headersTimeout). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (Node's server.requestTimeout). */
  requestTimeoutMs: number;
  /** Open connections at once; past it new ones are closed at once (server.maxConnections). */
  maxConnections: number;
  /** Idle time of a kept-alive connection. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  maxConnections: 1024,
  keepAliveTimeoutMs: 65_000,
};

/** Options for `http.createServer`: the timeouts are checked every second instead of Node's default 30 s, so a slow client is cut off on time. */
export const SERVER_OPTIONS = { connectionsCheckingInterval: 1_000, requireHostHeader: true } as const;

/** Applies the limits to a server before it listens. */
export function applyLimits(server: Server, limits: Partial<ServerLimits> = {}): void {
  const l = { ...DEFAULT_LIMITS, ...limits };
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.maxConnections = l.maxConnections;
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
}

/** The body was larger than the listener accepts. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes.`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a request body up to `limit` bytes. Past it (or when Content-Length already says
 * so) it stops reading and rejects with BodyTooLargeError; the caller answers 413 and the
 * connection is closed, so the rest is never buffered.
 */
export function readBodyCapped(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** How much of an unread body is discarded after an early answer before the connection is closed instead. */
export const DISCARD_LIMIT = 16 * 1024 * 1024;

/**
 * After an early answer (refused, unauthenticated, too large) the rest of the body is
 * discarded unread, as Node does for any response sent before its request ended, so the
 * client reads the answer instead of a reset; past DISCARD_LIMIT bytes the connection is
 * closed. Nothing is buffered either way, and requestTimeout bounds a slow sender.
 */
export function discardUnreadBody(req: IncomingMessage): void {
  if (req.complete) return;
  let seen = 0;
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > DISCARD_LIMIT) req.socket.destroy();
  });
  req.resume();
}

/** Deepest JSON nesting the local stack accepts: AWS documents 1,000 levels for PutEvents; no API of the product comes close. */
export const MAX_JSON_DEPTH = 1_000;

/**
 * True when the text nests arrays/objects deeper than `max`. One pass, no recursion, no
 * parse: brackets inside strings are skipped. Run before JSON.parse so a 200,000-deep
 * body is a 4xx instead of a stack overflow in whatever walks the parsed value.
 */
export function jsonDepthExceeds(body: Buffer, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Name of the token file under the stack's data folder. */
export const API_TOKEN_FILE = 'api-token';
/** How error bodies name the token file: relative, never the absolute path of the user's folder. */
export const TOKEN_FILE_HINT = `the ${API_TOKEN_FILE} file in the local stack's data folder (.batchron/${API_TOKEN_FILE} unless --data-dir says otherwise)`;

/**
 * Reads the local token from `<dataDir>/api-token`, creating it (32 random bytes,
 * base64url, mode 0600) when absent, so a restart keeps the token a user already copied.
 * The HTTP API and the control API both accept it.
 */
export function loadOrCreateApiToken(dataDir: string, name: string = API_TOKEN_FILE): { token: string; file: string; created: boolean } {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) {
      // Someone may have copied the folder with a looser mode; the token is a credential.
      chmodSync(file, 0o600);
      return { token, file, created: false };
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode option does not apply when the file already existed
  return { token, file, created: true };
}

/** Constant-time check of `Authorization: Bearer <token>`; query-string tokens are never looked at. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  // Compare digests so the comparison takes the same time whatever the length.
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/**
 * Makes the data folder private: created 0700, and on an existing folder every directory
 * tightened to 0700 and every file to 0600 (state/ssm.json holds the Slack webhook, the
 * token file a credential, the database every run). Symbolic links are left alone.
 */
export function securePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tighten = (path: string, mode: number) => {
    try {
      chmodSync(path, mode);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'an error';
      throw new GuardConfigError(`cannot make ${path} private (${code}): the data folder holds the API token and the Slack webhook; fix its owner or remove it`);
    }
  };
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      if ((stat.mode & 0o777) !== 0o700) tighten(path, 0o700);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if ((stat.mode & 0o777) !== 0o600) {
      tighten(path, 0o600);
    }
  };
  walk(dir);
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Request body caps of the AWS endpoint, per signing name, from each service's documented
 * limits: Lambda's synchronous Invoke payload (6 MB; asynchronous 1 MB is checked by the
 * Lambda service itself), Batch's SubmitJob payload (30 KiB, the largest of its requests),
 * DynamoDB's 16 MB BatchWriteItem request, CloudWatch Logs' 1 MB PutLogEvents batch,
 * EventBridge's 256 KB PutEvents entries (with room for the JSON around them), Scheduler's
 * CreateSchedule with a target input, SSM's 8 KB advanced parameter values with their
 * request around them; the control API's requests are a few fields.
 */
export const AWS_BODY_LIMITS: Readonly<Record<string, number>> = {
  lambda: 6 * MiB,
  batch: 30 * KiB,
  dynamodb: 16 * MiB,
  'streams.dynamodb': 1 * MiB,
  logs: 1 * MiB,
  events: 512 * KiB,
  scheduler: 512 * KiB,
  ssm: 64 * KiB,
};
/** The control API's cap, and the cap of a request for a service the endpoint does not serve. */
export const SMALL_BODY_LIMIT = 64 * KiB;
/** API Gateway HTTP API's payload limit (10 MB). */
export const HTTP_API_BODY_LIMIT = 10 * MiB;

/**
 * The AWS endpoint's whole guard, before a service sees the request: Host/Origin (403),
 * then the body under the service's cap (413, AWS's RequestEntityTooLargeException), then
 * its JSON depth (400). Resolves with the body, or with the AwsError to answer.
 * @param service the signing name, or `control` for `/_batchron/`
 */
export async function guardAwsRequest(
  req: IncomingMessage,
  opts: { service: string | undefined; allowedHosts?: readonly string[] | undefined },
): Promise<Buffer | AwsError> {
  const refusal = checkRequest(req.headers, opts.allowedHosts);
  if (refusal) return new AwsError('AccessDeniedException', refusal.message, refusal.status);
  const service = opts.service ?? '';
  let body: Buffer;
  try {
    body = await readBodyCapped(req, AWS_BODY_LIMITS[service] ?? SMALL_BODY_LIMIT);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? (service === 'lambda' ? 'InvokeFunction' : service);
    return new AwsError('RequestEntityTooLargeException', `Request must be smaller than ${error.limit} bytes for the ${operation || 'requested'} operation.`, 413);
  }
  if (jsonDepthExceeds(body)) {
    const code = service === 'lambda' ? 'InvalidRequestContentException' : 'SerializationException';
    return new AwsError(code, `The request body nests JSON deeper than ${MAX_JSON_DEPTH} levels.`, 400);
  }
  return body;
}
