/**
 * The CLI's HTTP client for the Batchron API. Two targets, one interface:
 * - the local stack (default `http://127.0.0.1:3000`): a bearer token read from
 *   `.batchron/api-token` (or `BATCHRON_API_TOKEN`);
 * - a deployed stage (`--api URL` or `BATCHRON_API_URL`): requests signed with SigV4 for
 *   `execute-api`, credentials from the standard AWS chain (env, profile, SSO, IMDS...).
 * Errors come back as `ApiError` carrying the API's `{ error: { code, message, issues } }`,
 * or `ApiUnreachableError` when nothing answers, so commands map them to exit codes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { sanitizeDeep, visible } from '#cli/sanitize';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
export const DEFAULT_TOKEN_FILE = '.batchron/api-token';

/** One problem the API found with a request. */
export interface ApiIssue {
  path: string;
  message: string;
}

/** The API answered with an error status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly ApiIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

/** Nothing answered at the API's address (connection refused, DNS, timeout). */
export class ApiUnreachableError extends Error {
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiUnreachableError';
  }
}

/** No credentials to call the API with (no token file, no AWS credentials). */
export class ApiAuthConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiAuthConfigError';
  }
}

export type Auth =
  | { kind: 'bearer'; token: string }
  | { kind: 'sigv4'; region: string; credentials: AwsCredentialIdentityProvider };

export interface ClientTarget {
  url: string;
  auth: Auth;
}

export interface TargetOptions {
  /** `--api`; falls back to `BATCHRON_API_URL`, then the local stack. */
  api?: string;
  /** Where the local token lives; default `.batchron/api-token` under `cwd`. */
  tokenFile?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
}

/**
 * Works out where the CLI talks to and how it proves who it is. A loopback URL is the
 * local stack (bearer token); any other is a deployed stage (SigV4). The region for
 * signing comes from the execute-api host name, else from AWS_REGION.
 */
export function resolveTarget(opts: TargetOptions = {}): ClientTarget {
  const env = opts.env ?? process.env;
  const raw = opts.api ?? env.BATCHRON_API_URL ?? DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiAuthConfigError(`--api "${raw}" is not a URL; use e.g. https://abc123.execute-api.eu-west-1.amazonaws.com`);
  }
  const base = raw.replace(/\/+$/, '');
  if (isLoopback(url)) {
    const token = env.BATCHRON_API_TOKEN ?? readToken(resolve(opts.cwd ?? process.cwd(), opts.tokenFile ?? DEFAULT_TOKEN_FILE));
    return { url: base, auth: { kind: 'bearer', token } };
  }
  const region =
    /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(url.hostname)?.[1] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new ApiAuthConfigError(`cannot tell the AWS region of ${url.host}; set AWS_REGION to sign requests for it`);
  }
  return { url: base, auth: { kind: 'sigv4', region, credentials: fromNodeProviderChain() } };
}

function readToken(file: string): string {
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  } catch {
    // fall through to the message below
  }
  throw new ApiAuthConfigError(
    `no API token at ${file}: start the local stack first (npm start creates it), or set BATCHRON_API_TOKEN`,
  );
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A thin JSON client; every method resolves with the parsed body or rejects with ApiError/ApiUnreachableError. */
export class ApiClient {
  private readonly signer: SignatureV4 | undefined;

  constructor(
    readonly target: ClientTarget,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    this.signer =
      target.auth.kind === 'sigv4'
        ? new SignatureV4({
            service: 'execute-api',
            region: target.auth.region,
            credentials: target.auth.credentials,
            sha256: Sha256,
          })
        : undefined;
  }

  get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, opts);
  }

  post<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, opts);
  }

  put<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('PUT', path, opts);
  }

  delete<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, opts);
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.target.url + path);
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      query[k] = String(v);
      url.searchParams.set(k, String(v));
    }
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    };
    if (this.target.auth.kind === 'bearer') {
      headers.authorization = `Bearer ${this.target.auth.token}`;
    } else if (this.signer) {
      let signed;
      try {
        signed = await this.signer.sign({
          method,
          protocol: url.protocol,
          hostname: url.hostname,
          ...(url.port ? { port: Number(url.port) } : {}),
          path: url.pathname,
          query,
          headers: { ...headers, host: url.host },
          ...(body !== undefined ? { body } : {}),
        });
      } catch (error) {
        throw new ApiAuthConfigError(
          `no AWS credentials to sign the request (${error instanceof Error ? error.message : String(error)}); configure a profile or set AWS_PROFILE`,
          { cause: error },
        );
      }
      headers = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host'));
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      throw new ApiUnreachableError(
        this.target.url,
        `cannot reach the Batchron API at ${this.target.url} (${describeFetchError(error)})`,
        { cause: error },
      );
    }
    // Text from jobs and other callers is shown with its control characters visible (cli/sanitize.ts).
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? sanitizeDeep(JSON.parse(text)) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw toApiError(res.status, parsed, visible(text, { keepLines: true }));
    return parsed as T;
  }
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused: is `npm start` running?';
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function toApiError(status: number, body: unknown, text: string): ApiError {
  // The Batchron API answers `{ error: { code, message, issues } }`; API Gateway's own
  // errors (IAM refusals, throttling) answer `{ message }` or `{ Message }`.
  const b = (body ?? {}) as {
    error?: { code?: unknown; message?: unknown; issues?: unknown };
    message?: unknown;
    Message?: unknown;
  };
  if (b.error && typeof b.error.message === 'string') {
    const issues = Array.isArray(b.error.issues)
      ? b.error.issues.filter((i): i is ApiIssue => typeof i?.path === 'string' && typeof i?.message === 'string')
      : [];
    return new ApiError(status, typeof b.error.code === 'string' ? b.error.code : `Http${status}`, b.error.message, issues);
  }
  const message = typeof b.message === 'string' ? b.message : typeof b.Message === 'string' ? b.Message : text.slice(0, 200);
  return new ApiError(status, `Http${status}`, message || `HTTP ${status}`);
}
